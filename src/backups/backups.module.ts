import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { DeployWorkModule } from '../applications/deploy/deploy-work.module';
import { CatalogModule } from '../catalog/catalog.module';
import { QueueName } from '../queue/queue-names';
import { BackupArchivesModule } from './backup-archives.module';
import { BackupOutcomes } from './backup-outcomes';
import { BackupProcessor } from './backup.processor';
import { BackupQueue } from './backup.queue';
import { BackupReader } from './backup.reader';
import { BackupRequests } from './backup-requests.service';
import { BackupSteps } from './backup.steps';
import { BackupsController } from './backups.controller';
import { ScheduledRetention } from './schedule/scheduled-retention';

/** The backup queue and the service that enqueues to it; every process role has it. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Backup })],
  providers: [BackupQueue],
  exports: [BackupQueue, BullModule],
})
export class BackupQueueModule {}

/** The backup routes: they accept requests and enqueue them. */
@Module({
  imports: [BackupQueueModule, CatalogModule],
  controllers: [BackupsController],
  providers: [BackupRequests, BackupReader],
  exports: [BackupRequests],
})
export class BackupsModule {}

/** The backup worker: exists only in processes that run the worker role. */
@Module({})
export class BackupWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: BackupWorkerModule,
      imports: runsWorker ? [BackupQueueModule, DeployWorkModule, BackupArchivesModule] : [],
      providers: runsWorker
        ? [BackupSteps, BackupOutcomes, BackupProcessor, ScheduledRetention]
        : [],
    };
  }
}
