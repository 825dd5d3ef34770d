import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Queue } from 'bull';
import { QueueName } from '../queue/queue-names';
import {
  PRUNE_CREDENTIALS_JOB,
  RECONCILE_JOB,
  RECONCILE_OPERATIONS_JOB,
} from './maintenance.processor';

const HOURLY = '17 * * * *';
const EVERY_MINUTE = '* * * * *';
// The orphan sweep reads every host's guests, rules and snapshots: not every minute.
const EVERY_FIVE_MINUTES = '*/5 * * * *';

/** Registers the repeatable maintenance jobs; Bull de-duplicates them across workers. */
@Injectable()
export class MaintenanceScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectPinoLogger(MaintenanceScheduler.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down, Bull holds the command until it reconnects,
    // and the process must still start (and report itself not ready).
    // A repeatable job is one job per tick, whatever the number of workers.
    for (const [name, cron] of [
      [PRUNE_CREDENTIALS_JOB, HOURLY],
      [RECONCILE_OPERATIONS_JOB, EVERY_MINUTE],
      [RECONCILE_JOB, EVERY_FIVE_MINUTES],
    ]) {
      this.queue.add(name, {}, { repeat: { cron }, jobId: name }).catch((err: Error) => {
        this.logger.warn({ err: { message: err.message } }, 'could not schedule maintenance');
      });
    }
  }
}
