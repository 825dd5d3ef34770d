import { BullModule } from '@nestjs/bull';
import { DynamicModule, Module } from '@nestjs/common';
import { CatalogModule } from '../../catalog/catalog.module';
import { StepRunner } from '../../operations/step-runner';
import { ProxmoxModule } from '../../proxmox/proxmox.module';
import { QueueName } from '../../queue/queue-names';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { DeployCompensation } from './deploy-compensation';
import { DeployPlanBuilder } from './deploy-plan.builder';
import { DeployProcessor } from './deploy.processor';
import { NodeAddress } from './node-address';
import { DeployQueue } from './deploy.queue';
import { DEPLOY_STEP_PROVIDERS } from './deploy-steps.providers';

/** The deploy queue and the service that enqueues to it; every process role has it. */
@Module({
  imports: [BullModule.registerQueue({ name: QueueName.Deploy })],
  providers: [DeployQueue],
  exports: [DeployQueue, BullModule],
})
export class DeployQueueModule {}

/** The deploy worker: exists only in processes that run the worker role. */
@Module({})
export class DeployWorkerModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: DeployWorkerModule,
      imports: runsWorker ? [DeployQueueModule, ProxmoxModule, CatalogModule] : [],
      providers: runsWorker
        ? [
            ...DEPLOY_STEP_PROVIDERS,
            StepRunner,
            DeployPlanBuilder,
            ApplicationAllocator,
            NodeAddress,
            DeployCompensation,
            DeployProcessor,
          ]
        : [],
    };
  }
}
