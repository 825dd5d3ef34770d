import { checkCron, nextRuns } from './cron-schedule';

describe('backup schedule cron expressions', () => {
  it('accepts five-field schedules at least the minimum interval apart', () => {
    expect(checkCron('0 3 * * *', 60)).toEqual({ ok: true });
    expect(checkCron('*/15 * * * 1-5', 60)).toEqual({ ok: true });
    expect(checkCron('* * * * *', 60)).toEqual({ ok: true });
  });

  it('refuses what runs more often than the minimum interval', () => {
    expect(checkCron('* * * * *', 300)).toEqual({
      ok: false,
      reason: 'runs more often than once every 300 seconds',
    });
    // Most runs are an hour apart; two of them are a minute apart.
    expect(checkCron('0,1 * * * *', 300).ok).toBe(false);
    expect(checkCron('*/2 * * * * *', 60).ok).toBe(false);
    expect(checkCron('*/2 * * * * *', 2)).toEqual({ ok: true });
  });

  it('refuses malformed expressions with a reason', () => {
    for (const bad of [
      '',
      'daily',
      '* * * *',
      '* * * * * * *',
      '61 * * * *',
      '* * 32 * *',
      '@reboot',
    ]) {
      expect(checkCron(bad, 60).ok).toBe(false);
    }
  });

  it('reads schedules in UTC', () => {
    const runs = nextRuns('30 2 * * *', 2, new Date('2026-03-29T00:00:00Z'));
    expect(runs.map((d) => d.toISOString())).toEqual([
      '2026-03-29T02:30:00.000Z',
      '2026-03-30T02:30:00.000Z',
    ]);
  });
});
