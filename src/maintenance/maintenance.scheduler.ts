import { InjectQueue } from '@nestjs/bull';
import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../queue/queue.module';
import { PRUNE_CREDENTIALS_JOB } from './maintenance.processor';

const HOURLY = '17 * * * *';

/** Registers the repeatable maintenance jobs; Bull de-duplicates them across workers. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(MaintenanceScheduler.name);

  constructor(@InjectQueue(QueueName.Maintenance) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.queue.add(
        PRUNE_CREDENTIALS_JOB,
        {},
        { repeat: { cron: HOURLY }, jobId: PRUNE_CREDENTIALS_JOB },
      );
    } catch (err) {
      // Redis may be down at start; the next worker start schedules it again.
      this.logger.warn(
        { err: { message: (err as Error).message } },
        'could not schedule maintenance',
      );
    }
  }
}
