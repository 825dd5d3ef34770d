import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { BackupArchivesModule } from '../../backups/backup-archives.module';
import { QueueName } from '../../queue/queue-names';
import { ADOPT_WORK } from '../adopt/adopt-work';
import { DeployWorkModule } from '../deploy/deploy-work.module';
import { LifecycleOverdueHandler } from './lifecycle-overdue.handler';
import { LifecycleProcessor } from './lifecycle.processor';
import { LifecycleQueue } from './lifecycle.queue';
import { LifecycleSteps } from './lifecycle.steps';

/** The lifecycle queue and the service that enqueues to it; every process role has it. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Lifecycle })],
  providers: [LifecycleQueue],
  exports: [LifecycleQueue, BullModule],
})
export class LifecycleQueueModule {}

/**
 * The lifecycle worker: exists only in processes that run the worker role.
 * Adoptions run on its queue, and adopted applications' actions on their own steps.
 */
@Module({})
export class LifecycleWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: LifecycleWorkerModule,
      imports: runsWorker ? [LifecycleQueueModule, DeployWorkModule, BackupArchivesModule] : [],
      providers: runsWorker
        ? [LifecycleSteps, LifecycleProcessor, LifecycleOverdueHandler, ...ADOPT_WORK]
        : [],
    };
  }
}
