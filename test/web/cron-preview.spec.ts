import { previewRuns } from '../../web/src/lib/cron-preview';

/** The schedule editor's preview must read a cron as the API does: in UTC, five or six fields. */
describe('previewRuns (the schedule editor’s next runs)', () => {
  const from = new Date('2026-11-30T18:00:00Z');

  it('lists the next runs in UTC', async () => {
    const preview = await previewRuns('0 3 * * *', 3, from);
    expect(preview).toEqual({
      ok: true,
      runs: [
        new Date('2026-12-01T03:00:00Z'),
        new Date('2026-12-02T03:00:00Z'),
        new Date('2026-12-03T03:00:00Z'),
      ],
    });
  });

  it('reads six fields with seconds first', async () => {
    const preview = await previewRuns('30 15 18 * * *', 2, from);
    expect(preview).toEqual({
      ok: true,
      runs: [new Date('2026-11-30T18:15:30Z'), new Date('2026-12-01T18:15:30Z')],
    });
  });

  it.each([
    ['0 3 * *', 'Five fields (minute hour day month weekday), or six with seconds first.'],
    ['0 3 * * * * *', 'Five fields (minute hour day month weekday), or six with seconds first.'],
    ['0 25 * * *', 'This is not a valid cron expression.'],
    ['every day', 'Five fields (minute hour day month weekday), or six with seconds first.'],
    ['a b c d e', 'This is not a valid cron expression.'],
  ])('refuses %j: %s', async (expression, reason) => {
    expect(await previewRuns(expression, 5, from)).toEqual({ ok: false, reason });
  });
});
