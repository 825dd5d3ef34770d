import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { CatalogModule } from '../../catalog/catalog.module';
import { StepRunner } from '../../operations/step-runner';
import { ProxmoxModule } from '../../proxmox/proxmox.module';
import { QueueName } from '../../queue/queue-names';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { DeployPlanBuilder } from '../deploy/deploy-plan.builder';
import { DEPLOY_STEP_PROVIDERS } from '../deploy/deploy-steps.providers';
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

/** The lifecycle worker: exists only in processes that run the worker role. */
@Module({})
export class LifecycleWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: LifecycleWorkerModule,
      imports: runsWorker ? [LifecycleQueueModule, ProxmoxModule, CatalogModule] : [],
      providers: runsWorker
        ? [
            ...DEPLOY_STEP_PROVIDERS,
            StepRunner,
            DeployPlanBuilder,
            ApplicationAllocator,
            LifecycleSteps,
            LifecycleProcessor,
          ]
        : [],
    };
  }
}
