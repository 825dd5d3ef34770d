import type { Job, JobOptions, Queue } from 'bull';
import type { PinoLogger } from 'nestjs-pino';
import { enqueueWithin } from './enqueue';

/** Ids only: a worker reads everything else (and opens the secrets) from the rows. */
export interface OperationJobData {
  operationId: string;
  /**
   * Attempts the operation used before this job: set only on a job put back
   * after the queue lost the first one, which Bull knows nothing about.
   */
  priorAttempts?: number;
}

/** What enqueueing an operation's job needs from its row. */
export interface EnqueuedOperation {
  id: string;
  maxAttempts: number;
}

/**
 * One job per operation (the operation id is the job id, so a repeated
 * enqueue is a no-op); Bull retries it up to the attempts the operation has
 * left, so a job put back after a loss never exceeds the operation's maximum.
 */
export function operationJob(
  operation: EnqueuedOperation,
  priorAttempts = 0,
): { data: OperationJobData; options: JobOptions } {
  return {
    data:
      priorAttempts > 0
        ? { operationId: operation.id, priorAttempts }
        : { operationId: operation.id },
    options: {
      jobId: operation.id,
      attempts: operation.maxAttempts - priorAttempts,
      backoff: { type: 'jittered' },
    },
  };
}

/** Adds an operation's job named `name`; a 503 when Redis does not take it in time. */
export async function enqueueOperation(
  queue: Queue<OperationJobData>,
  name: string,
  operation: EnqueuedOperation,
  priorAttempts = 0,
): Promise<void> {
  const { data, options } = operationJob(operation, priorAttempts);
  await enqueueWithin(queue, name, data, options);
}

/**
 * The attempts an operation whose job was lost already used: one still
 * queued used none; a running one resumes the attempt it was in, as the job
 * of a worker that died does.
 */
export function attemptsBeforeLoss(op: { attempts: number; maxAttempts: number }): number {
  return Math.min(Math.max(op.attempts - 1, 0), op.maxAttempts - 1);
}

/** The attempts an operation used before this run of its job: Bull's failures and any before a loss. */
export function failedAttemptsOf(
  job: Pick<Job<OperationJobData>, 'attemptsMade' | 'data'>,
): number {
  return job.attemptsMade + (job.data.priorAttempts ?? 0);
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
 * id and the number of attempts it already failed.
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
    (job) => handle(job.data.operationId, failedAttemptsOf(job)),
    logger,
  );
}
