import { enqueueOperation, type OperationJobData } from '../../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../../queue/queue-names';

export const DEPLOY_JOB = 'deploy';
/** Clones run on the deploy queue, beside deployments, under their own job name. */
export const CLONE_JOB = 'clone';

/** Enqueues deployments and clones; the deploy worker's processors run them. */
@Injectable()
export class DeployQueue {
  constructor(@InjectQueue(QueueName.Deploy) private readonly queue: Queue<OperationJobData>) {}

  /**
   * One job per operation (the operation id is the job id, so a repeated
   * enqueue is a no-op); Bull retries it up to the operation's attempts.
   * A 503 when Redis does not take it in time.
   */
  async enqueue(
    operation: { id: string; maxAttempts: number },
    job: typeof DEPLOY_JOB | typeof CLONE_JOB = DEPLOY_JOB,
  ): Promise<void> {
    await enqueueOperation(this.queue, job, operation);
  }
}
