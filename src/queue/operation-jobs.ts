import type { Job, Queue } from 'bull';
import type { PinoLogger } from 'nestjs-pino';

/** Ids only: a worker reads everything else (and opens the secrets) from the rows. */
export interface OperationJobData {
  operationId: string;
}

/**
 * Runs the queue's jobs named `name`, `concurrency` at once. Registered in
 * code rather than with @Process: Nest drops the promise `process` returns,
 * and Bull rejects it when the queue closes while the worker still starts
 * (an unhandled "Connection is closed." at shutdown).
 */
export function processJobs<T>(
  queue: Queue<T>,
  name: string,
  concurrency: number,
  handle: (job: Job<T>) => Promise<unknown>,
  logger: PinoLogger,
): void {
  queue.process(name, concurrency, handle).catch((err: Error) => {
    logger.warn(
      { err: { message: err.message }, queue: queue.name, job: name },
      'a worker stopped',
    );
  });
}

/**
 * Runs an operation queue's jobs named `name`, handing each its operation's
 * id and the number of attempts Bull counted as failed.
 */
export function processOperationJobs(
  queue: Queue<OperationJobData>,
  name: string,
  concurrency: number,
  handle: (operationId: string, failedAttempts: number) => Promise<void>,
  logger: PinoLogger,
): void {
  processJobs(
    queue,
    name,
    concurrency,
    (job) => handle(job.data.operationId, job.attemptsMade),
    logger,
  );
}
