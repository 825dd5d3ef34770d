import { DynamicModule, Module } from '@nestjs/common';
import { ApplicationAllocator } from '../applications/allocation/application-allocator';
import { DeployCompensation } from '../applications/deploy/deploy-compensation';
import { DeployPlanBuilder } from '../applications/deploy/deploy-plan.builder';
import { DeployQueueModule } from '../applications/deploy/deploy.module';
import { DEPLOY_STEP_PROVIDERS } from '../applications/deploy/deploy-steps.providers';
import { LifecycleQueueModule } from '../applications/lifecycle/lifecycle.module';
import { AuthModule } from '../auth/auth.module';
import { CatalogModule } from '../catalog/catalog.module';
import { StepRunner } from '../operations/step-runner';
import { ProxmoxModule } from '../proxmox/proxmox.module';
import { SessionsModule } from '../sessions/sessions.module';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';
import { OperationReconciler } from './operation-reconciler';

/** Processors exist only in processes that run the worker role. */
@Module({})
export class MaintenanceModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: MaintenanceModule,
      imports: runsWorker
        ? [
            AuthModule,
            SessionsModule,
            DeployQueueModule,
            LifecycleQueueModule,
            ProxmoxModule,
            CatalogModule,
          ]
        : [AuthModule, SessionsModule],
      providers: runsWorker
        ? [
            ...DEPLOY_STEP_PROVIDERS,
            StepRunner,
            DeployPlanBuilder,
            ApplicationAllocator,
            DeployCompensation,
            OperationReconciler,
            MaintenanceProcessor,
            MaintenanceScheduler,
          ]
        : [],
    };
  }
}
