export interface PollSchedule {
  /** Absolute budget for the whole wait, in ms from the call. */
  deadlineMs: number;
  /** The longest pause between two checks. */
  maxIntervalMs: number;
}

/** The first pause; it doubles up to the schedule's longest. */
export const FIRST_POLL_INTERVAL_MS = 100;

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` until it gives a value. Most waits (a task, a DHCP lease, a
 * service coming up) end within a second or two: checking soon, then backing
 * off to the longest interval, sees a short wait end about when it ends
 * while a long one costs one check per interval. When the next check would
 * start past the deadline, throws what `late` gives.
 */
export async function pollUntil<T>(
  check: () => Promise<T | null>,
  schedule: PollSchedule,
  late: () => Error,
): Promise<T> {
  const deadline = Date.now() + schedule.deadlineMs;
  let interval = Math.min(FIRST_POLL_INTERVAL_MS, schedule.maxIntervalMs);
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() + interval > deadline) throw late();
    await sleep(interval);
    interval = Math.min(interval * 2, schedule.maxIntervalMs);
  }
}
