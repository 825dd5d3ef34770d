import { DynamicModule, Module } from '@nestjs/common';
import { DeployWorkModule } from '../applications/deploy/deploy-work.module';
import { AuthModule } from '../auth/auth.module';
import { SessionsModule } from '../sessions/sessions.module';
import { MaintenanceProcessor } from './maintenance.processor';
import { HostInventoryReader } from './host-inventory';
import { LostJobRequeuer } from './lost-job-requeuer';
import { OperationReconciler } from './operation-reconciler';
import { OrphanGuests } from './orphan-guests';
import { OrphanReconciler } from './orphan-reconciler';
import { ReconcileMetrics } from './reconcile-metrics';
import { Reconciler } from './reconciler';

/** Processors exist only in processes that run the worker role. */
@Module({})
export class MaintenanceModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: MaintenanceModule,
      imports: runsWorker
        ? [AuthModule, SessionsModule, DeployWorkModule]
        : [AuthModule, SessionsModule],
      providers: runsWorker
        ? [
            LostJobRequeuer,
            OperationReconciler,
            HostInventoryReader,
            OrphanGuests,
            OrphanReconciler,
            ReconcileMetrics,
            Reconciler,
            MaintenanceProcessor,
          ]
        : [],
    };
  }
}
