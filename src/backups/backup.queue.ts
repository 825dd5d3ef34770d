import { enqueueOperation, type OperationJobData } from '../queue/operation-jobs';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../queue/queue-names';

export const BACKUP_JOB = 'backup';

/** Enqueues backup, restore and backup_delete operations. */
@Injectable()
export class BackupQueue {
  constructor(@InjectQueue(QueueName.Backup) private readonly queue: Queue<OperationJobData>) {}

  async enqueue(operation: { id: string; maxAttempts: number }): Promise<void> {
    await enqueueOperation(this.queue, BACKUP_JOB, operation);
  }
}
