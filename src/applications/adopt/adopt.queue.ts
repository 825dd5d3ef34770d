import { enqueueOperation, type OperationJobData } from '../../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../../queue/queue-names';

/** Adoptions run on the lifecycle queue under their own job name. */
export const ADOPT_JOB = 'adopt';

@Injectable()
export class AdoptQueue {
  constructor(@InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<OperationJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueOperation(this.queue, ADOPT_JOB, operation);
  }
}
