import { pollUntil } from './poll';

describe('pollUntil', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('checks soon, then backs off to the longest interval', async () => {
    const at: number[] = [];
    const start = Date.now();
    const done = pollUntil(
      () => {
        at.push(Date.now() - start);
        return Promise.resolve(at.length === 7 ? 'ready' : null);
      },
      { deadlineMs: 60_000, maxIntervalMs: 1_000 },
      () => new Error('late'),
    );
    await jest.advanceTimersByTimeAsync(10_000);
    await expect(done).resolves.toBe('ready');
    expect(at).toEqual([0, 100, 300, 700, 1_500, 2_500, 3_500]);
  });

  it('throws what `late` gives when the next check would pass the deadline', async () => {
    let checks = 0;
    const done = pollUntil(
      () => {
        checks += 1;
        return Promise.resolve(null);
      },
      { deadlineMs: 1_000, maxIntervalMs: 1_000 },
      () => new Error('still waiting'),
    );
    const outcome = expect(done).rejects.toThrow('still waiting');
    await jest.advanceTimersByTimeAsync(2_000);
    await outcome;
    // At 0, 100, 300 and 700 ms; the next one (1,500 ms) would pass the deadline.
    expect(checks).toBe(4);
  });
});
