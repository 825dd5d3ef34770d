import type { OperationJobData } from '../../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { enqueueWithin } from '../../queue/enqueue';
import { QueueName } from '../../queue/queue-names';

export const LIFECYCLE_JOB = 'lifecycle';

/** Enqueues start, stop, restart and delete operations. */
@Injectable()
export class LifecycleQueue {
  constructor(@InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<OperationJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueWithin(
      this.queue,
      LIFECYCLE_JOB,
      { operationId: operation.id },
      { jobId: operation.id, attempts: operation.maxAttempts, backoff: { type: 'jittered' } },
    );
  }
}
