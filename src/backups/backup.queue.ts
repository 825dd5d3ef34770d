import type { OperationJobData } from '../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { enqueueWithin } from '../queue/enqueue';
import { QueueName } from '../queue/queue-names';

export const BACKUP_JOB = 'backup';

/** Enqueues backup, restore and backup_delete operations. */
@Injectable()
export class BackupQueue {
  constructor(@InjectQueue(QueueName.Backup) private readonly queue: Queue<OperationJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueWithin(
      this.queue,
      BACKUP_JOB,
      { operationId: operation.id },
      { jobId: operation.id, attempts: operation.maxAttempts, backoff: { type: 'jittered' } },
    );
  }
}
