import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import type { DestinationStream } from 'pino';
import { ApplicationMetricsModule } from './applications/metrics/application-metrics.module';
import { ApplicationsModule } from './applications/applications.module';
import { DeployWorkerModule } from './applications/deploy/deploy.module';
import { LifecycleWorkerModule } from './applications/lifecycle/lifecycle.module';
import { AuditModule } from './audit/audit.module';
import {
  BackupScheduleModule,
  BackupScheduleWorkerModule,
} from './backups/schedule/backup-schedule.module';
import { AuthModule } from './auth/auth.module';
import { BackupsModule, BackupWorkerModule } from './backups/backups.module';
import { AdminBootstrap } from './bootstrap/admin-bootstrap';
import { CatalogModule } from './catalog/catalog.module';
import { HttpErrorFilter } from './common/errors/http-error.filter';
import { LoggingModule } from './common/logging/logging.module';
import { createValidationPipe } from './common/http/validation';
import { AppConfig } from './config/app-config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MaintenanceJobsModule } from './maintenance/maintenance-jobs';
import { MaintenanceModule } from './maintenance/maintenance.module';
import { MetricsModule } from './metrics/metrics.module';
import { OverdueOperationsModule } from './operations/overdue-operations';
import { ProxmoxModule } from './proxmox/proxmox.module';
import { QueueModule } from './queue/queue.module';
import { RedisModule } from './redis/redis.module';
import { SettingsModule } from './settings/settings.module';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  /** Where log lines go; tests capture them to prove nothing secret is written. */
  logDestination?: DestinationStream;
}

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, options.logDestination),
        DatabaseModule,
        RedisModule,
        QueueModule,
        OverdueOperationsModule,
        MaintenanceJobsModule,
        MetricsModule,
        AuditModule,
        UsersModule,
        AuthModule,
        SettingsModule,
        ProxmoxModule,
        CatalogModule,
        ApplicationsModule,
        ApplicationMetricsModule,
        BackupsModule,
        HealthModule,
        MaintenanceModule.register(config.runsWorker),
        DeployWorkerModule.register(config.runsWorker),
        LifecycleWorkerModule.register(config.runsWorker),
        BackupWorkerModule.register(config.runsWorker),
        BackupScheduleModule,
        BackupScheduleWorkerModule.register(config.runsWorker),
      ],
      providers: [
        AdminBootstrap,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
        { provide: APP_PIPE, useFactory: createValidationPipe },
      ],
    };
  }
}
