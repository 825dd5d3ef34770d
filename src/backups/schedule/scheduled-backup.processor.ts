import { CreateRequestContext, MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Job } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';

import { DeploymentLog, LogLevel } from '../../operations/deployment-log.entity';
import { MaintenanceJobs } from '../../maintenance/maintenance-jobs';
import { BackupSchedule } from './backup-schedule.entity';
import { BackupRequests } from '../backup-requests.service';
import {
  SCHEDULED_BACKUP_JOB,
  type ScheduledBackupJobData,
  ScheduleTicks,
  type TickSync,
} from './schedule-ticks';

export const SYNC_SCHEDULES_JOB = 'sync-backup-schedules';

export type TickOutcome = 'started' | 'busy' | 'already-ran' | 'gone';

/**
 * Runs a schedule's ticks. A tick moves the schedule's `lastTickAt` forward
 * in one conditional update before anything else: a tick that arrives twice
 * (or at two workers) starts one backup.
 */
@Injectable()
export class ScheduledBackupProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(ScheduledBackupProcessor.name) private readonly logger: PinoLogger,
    private readonly jobs: MaintenanceJobs,
    // Read by @CreateRequestContext to give each job its own identity map.
    readonly orm: MikroORM,
    private readonly em: EntityManager,
    private readonly ticks: ScheduleTicks,
    private readonly backups: BackupRequests,
  ) {}

  onModuleInit(): void {
    this.jobs.register(SCHEDULED_BACKUP_JOB, (job: Job<ScheduledBackupJobData>) => this.tick(job));
    // Every minute: Redis may have lost the schedules' timers.
    this.jobs.register(SYNC_SCHEDULES_JOB, () => this.syncSchedules(), '* * * * *');
  }

  @CreateRequestContext()
  async tick(job: Job<ScheduledBackupJobData>): Promise<TickOutcome> {
    const { scheduleId } = job.data;
    // Bull keeps the tick's own time in `prevMillis`; not in its typings.
    const tickMillis = (job.opts as { prevMillis?: number }).prevMillis ?? job.timestamp;
    const tickAt = new Date(tickMillis);
    const claimed = await this.em.nativeUpdate(
      BackupSchedule,
      {
        id: scheduleId,
        enabled: true,
        $or: [{ lastTickAt: null }, { lastTickAt: { $lt: tickAt } }],
      },
      { lastTickAt: tickAt },
    );
    if (claimed === 0) {
      const exists = await this.em.count(BackupSchedule, { id: scheduleId, enabled: true });
      return exists > 0 ? 'already-ran' : 'gone';
    }
    const schedule = await this.em.findOneOrFail(BackupSchedule, { id: scheduleId });
    try {
      await this.backups.createScheduled(schedule.application.id, {
        mode: schedule.mode,
        compress: schedule.compress,
        notes: null,
      });
      return 'started';
    } catch (err) {
      if (!(err instanceof DomainError) || err.code !== ErrorCode.Conflict) throw err;
      this.em.create(DeploymentLog, {
        application: schedule.application,
        step: 'scheduled_backup',
        level: LogLevel.Warn,
        message: `the scheduled backup of ${tickAt.toISOString()} was skipped: ${err.message}`,
      });
      await this.em.flush();
      return 'busy';
    }
  }

  @CreateRequestContext()
  async syncSchedules(): Promise<TickSync> {
    const result = await this.ticks.sync();
    if (result.added + result.removed > 0) {
      this.logger.info(result, 'backup schedule timers brought in line with the schedules');
    }
    return result;
  }
}
