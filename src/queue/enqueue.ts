import type { JobOptions, Queue } from 'bull';
import { DomainError } from '../common/errors/domain-error';

/** How long a request waits for Redis to take a job before it answers 503. */
export const ENQUEUE_TIMEOUT_MS = 5_000;

export const QUEUE_UNAVAILABLE = 'the job queue is unavailable; try again later';

/**
 * Adds a job, or rejects with a 503 when Redis does not take it in time:
 * Bull would otherwise hold the command until Redis comes back.
 */
export async function enqueueWithin<T>(
  queue: Queue<T>,
  name: string,
  data: T,
  options: JobOptions,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(DomainError.unavailable(QUEUE_UNAVAILABLE)),
      ENQUEUE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([queue.add(name, data, options), timeout]);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    throw DomainError.unavailable(QUEUE_UNAVAILABLE);
  } finally {
    clearTimeout(timer);
  }
}
