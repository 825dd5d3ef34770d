import { DynamicModule, Module } from '@nestjs/common';
import { BackupsModule } from '../backups.module';
import { BackupScheduleController } from './backup-schedule.controller';
import { BackupSchedules } from './backup-schedules.service';
import { ScheduledBackupProcessor } from './scheduled-backup.processor';
import { ScheduleTicks } from './schedule-ticks';

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
      providers: runsWorker ? [ScheduledBackupProcessor] : [],
    };
  }
}
