import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { QueueName } from '../../queue/queue-names';
import { DeployOverdueHandler } from './deploy-overdue.handler';
import { CloneProcessor } from '../clone/clone.processor';
import { CloneSteps } from '../clone/clone.steps';
import { SourceSnapshot } from '../clone/source-snapshot';
import { DeployProcessor } from './deploy.processor';
import { DeployWorkModule } from './deploy-work.module';
import { DeployQueue } from './deploy.queue';

/** The deploy queue and the service that enqueues to it; every process role has it. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Deploy })],
  providers: [DeployQueue],
  exports: [DeployQueue, BullModule],
})
export class DeployQueueModule {}

/** The deploy worker (deployments and clones): exists only in processes that run the worker role. */
@Module({})
export class DeployWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: DeployWorkerModule,
      imports: runsWorker ? [DeployQueueModule, DeployWorkModule] : [],
      providers: runsWorker
        ? [DeployProcessor, DeployOverdueHandler, SourceSnapshot, CloneSteps, CloneProcessor]
        : [],
    };
  }
}
