import { jitteredBackoff, RETRY_BASE_MS, RETRY_CAP_MS } from './retry-backoff';

describe('jitteredBackoff', () => {
  it('doubles per attempt within [ceiling/2, ceiling]', () => {
    expect(jitteredBackoff(1, () => 0)).toBe(RETRY_BASE_MS / 2);
    expect(jitteredBackoff(1, () => 1)).toBe(RETRY_BASE_MS);
    expect(jitteredBackoff(3, () => 1)).toBe(RETRY_BASE_MS * 4);
  });

  it('never exceeds the cap', () => {
    for (let attempt = 1; attempt < 40; attempt += 1) {
      expect(jitteredBackoff(attempt)).toBeLessThanOrEqual(RETRY_CAP_MS);
    }
    expect(jitteredBackoff(30, () => 0)).toBe(RETRY_CAP_MS / 2);
  });

  it('spreads retries of jobs that failed together', () => {
    const delays = new Set(Array.from({ length: 50 }, () => jitteredBackoff(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
