import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { DomainError } from '../../common/errors/domain-error';
import { QueueName } from '../../queue/queue-names';

export const DEPLOY_JOB = 'deploy';

/** Ids only: the worker reads everything else (and opens the secrets) from the rows. */
export interface DeployJobData {
  operationId: string;
}

/** How long a request waits for Redis to take the job before it answers 503. */
export const ENQUEUE_TIMEOUT_MS = 5_000;

export const QUEUE_UNAVAILABLE = 'the job queue is unavailable; try again later';

/** Enqueues deployments; the deploy module's processor runs them. */
@Injectable()
export class DeployQueue {
  constructor(@InjectQueue(QueueName.Deploy) private readonly queue: Queue<DeployJobData>) {}

  /**
   * One job per operation (the operation id is the job id, so a repeated
   * enqueue is a no-op); Bull retries it up to the operation's attempts.
   * Rejects with a 503 when Redis does not take it in time: Bull would
   * otherwise hold the command until Redis comes back.
   */
  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(DomainError.unavailable(QUEUE_UNAVAILABLE)),
        ENQUEUE_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([
        this.queue.add(
          DEPLOY_JOB,
          { operationId: operation.id },
          {
            jobId: operation.id,
            attempts: operation.maxAttempts,
            backoff: { type: 'jittered' },
          },
        ),
        timeout,
      ]);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw DomainError.unavailable(QUEUE_UNAVAILABLE);
    } finally {
      clearTimeout(timer);
    }
  }
}
