import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { enqueueWithin } from '../../queue/enqueue';
import { QueueName } from '../../queue/queue-names';

export const LIFECYCLE_JOB = 'lifecycle';

/** Ids only, as for deployments: what a delete should do is in the operation's options. */
export interface LifecycleJobData {
  operationId: string;
}

/** Enqueues start, stop, restart and delete operations. */
@Injectable()
export class LifecycleQueue {
  constructor(@InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<LifecycleJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueWithin(
      this.queue,
      LIFECYCLE_JOB,
      { operationId: operation.id },
      { jobId: operation.id, attempts: operation.maxAttempts, backoff: { type: 'jittered' } },
    );
  }
}
