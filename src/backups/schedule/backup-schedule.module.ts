import { InjectQueue } from '@nestjs/bull';
import { DynamicModule, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { QueueName } from '../../queue/queue-names';
import { BackupsModule } from '../backups.module';
import { BackupScheduleController } from './backup-schedule.controller';
import { BackupSchedules } from './backup-schedules.service';
import { ScheduledBackupProcessor, SYNC_SCHEDULES_JOB } from './scheduled-backup.processor';
import { ScheduleTicks } from './schedule-ticks';

const EVERY_MINUTE = '* * * * *';

/** Puts the schedules' timers in line at start and then every minute (Redis may have lost them). */
@Injectable()
class ScheduleSyncTimer implements OnApplicationBootstrap {
  constructor(
    @InjectPinoLogger(ScheduleSyncTimer.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down the process must still start (and report itself not ready).
    for (const options of [{}, { repeat: { cron: EVERY_MINUTE }, jobId: SYNC_SCHEDULES_JOB }]) {
      this.queue.add(SYNC_SCHEDULES_JOB, {}, options).catch((err: Error) => {
        this.logger.warn({ err: { message: err.message } }, 'could not schedule the schedule sync');
      });
    }
  }
}

/** The schedule API; every process role has it. */
@Module({
  controllers: [BackupScheduleController],
  providers: [BackupSchedules, ScheduleTicks],
  exports: [ScheduleTicks],
})
export class BackupScheduleModule {}

/** The ticks' runner: only in processes that run the worker role. */
@Module({})
export class BackupScheduleWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: BackupScheduleWorkerModule,
      imports: runsWorker ? [BackupScheduleModule, BackupsModule] : [],
      providers: runsWorker ? [ScheduledBackupProcessor, ScheduleSyncTimer] : [],
    };
  }
}
