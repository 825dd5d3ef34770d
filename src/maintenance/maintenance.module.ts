import { DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { SessionsModule } from '../sessions/sessions.module';
import { MaintenanceProcessor } from './maintenance.processor';
import { MaintenanceScheduler } from './maintenance.scheduler';

/** Processors exist only in processes that run the worker role. */
@Module({})
export class MaintenanceModule {
  static register(runsWorker: boolean): DynamicModule {
    return {
      module: MaintenanceModule,
      imports: [AuthModule, SessionsModule],
      providers: runsWorker ? [MaintenanceProcessor, MaintenanceScheduler] : [],
    };
  }
}
