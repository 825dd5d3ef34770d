import { enqueueOperation, type OperationJobData } from '../../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../../queue/queue-names';

export const LIFECYCLE_JOB = 'lifecycle';

/** Enqueues start, stop, restart and delete operations. */
@Injectable()
export class LifecycleQueue {
  constructor(@InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<OperationJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueOperation(this.queue, LIFECYCLE_JOB, operation);
  }
}
