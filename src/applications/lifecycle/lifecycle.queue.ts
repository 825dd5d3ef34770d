import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { enqueueWithin } from '../../queue/enqueue';
import { QueueName } from '../../queue/queue-names';

export const LIFECYCLE_JOB = 'lifecycle';

/** Ids only, as for deployments, and how a delete treats an adopted container. */
export interface LifecycleJobData {
  operationId: string;
  /** A delete of an adopted application destroys its container instead of unmanaging it. */
  destroy?: boolean;
}

/** Enqueues start, stop, restart and delete operations. */
@Injectable()
export class LifecycleQueue {
  constructor(@InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<LifecycleJobData>) {}

  async enqueue(
    operation: { id: string; maxAttempts: number },
    options: { destroy?: boolean } = {},
  ): Promise<void> {
    await enqueueWithin(
      this.queue,
      LIFECYCLE_JOB,
      { operationId: operation.id, ...(options.destroy ? { destroy: true } : {}) },
      { jobId: operation.id, attempts: operation.maxAttempts, backoff: { type: 'jittered' } },
    );
  }
}
