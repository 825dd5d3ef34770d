const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Every timer the simulator arms goes through here, so that stop() and
 * /_sim/reset can cancel pending work and leave no handle behind.
 */
export class Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  /**
   * Resolves after `ms`. After cancelAll() the promise never settles: the work
   * waiting on it belongs to a simulator state that no longer exists.
   */
  delay(ms: number): Promise<void> {
    if (this.closed) return new Promise<void>(() => undefined);
    if (ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }

  /**
   * Runs `action` after `ms` unless the returned function is called first: a
   * timeout that usually does not fire (a wait of hours) must not stay armed.
   */
  timer(ms: number, action: () => void): () => void {
    if (this.closed) return () => undefined;
    // Longer than setTimeout's 2^31-1 ms would fire at once; weeks are "never" here.
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        action();
      },
      Math.min(ms, MAX_TIMEOUT_MS),
    );
    this.timers.add(timer);
    return () => {
      clearTimeout(timer);
      this.timers.delete(timer);
    };
  }

  /** Cancels pending delays; the scheduler stays usable (used by reset). */
  cancelAll(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  close(): void {
    this.closed = true;
    this.cancelAll();
  }
}
