import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { enqueueWithin } from '../../queue/enqueue';
import { QueueName } from '../../queue/queue-names';

export const DEPLOY_JOB = 'deploy';

/** Ids only: the worker reads everything else (and opens the secrets) from the rows. */
export interface DeployJobData {
  operationId: string;
}

/** Enqueues deployments; the deploy module's processor runs them. */
@Injectable()
export class DeployQueue {
  constructor(@InjectQueue(QueueName.Deploy) private readonly queue: Queue<DeployJobData>) {}

  /**
   * One job per operation (the operation id is the job id, so a repeated
   * enqueue is a no-op); Bull retries it up to the operation's attempts.
   * A 503 when Redis does not take it in time.
   */
  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueWithin(
      this.queue,
      DEPLOY_JOB,
      { operationId: operation.id },
      { jobId: operation.id, attempts: operation.maxAttempts, backoff: { type: 'jittered' } },
    );
  }
}
