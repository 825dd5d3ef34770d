import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Application } from '../../applications/application.entity';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/app-config';
import { ENQUEUE_TIMEOUT_MS } from '../../queue/enqueue';
import { BackupCompression, BackupMode } from '../backup.entity';
import { BackupSchedule } from './backup-schedule.entity';
import { BackupScheduleDto, type BackupScheduleBody } from './backup-schedule.dto';
import { checkCron, nextRuns } from './cron-schedule';
import { ScheduleTicks } from './schedule-ticks';

/** An application's backup schedule, read and changed through the application's owner scope. */
@Injectable()
export class BackupSchedules {
  constructor(
    @InjectPinoLogger(BackupSchedules.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly ticks: ScheduleTicks,
  ) {}

  async get(applicationId: string, principal: Principal): Promise<BackupScheduleDto> {
    const em = this.em.fork();
    const app = await em.getRepository(Application).findOwned(applicationId, principal);
    const schedule = await em.findOne(BackupSchedule, { application: app });
    if (!schedule) throw DomainError.notFound('Backup schedule');
    return this.view(schedule);
  }

  async put(
    applicationId: string,
    body: BackupScheduleBody,
    principal: Principal,
  ): Promise<BackupScheduleDto> {
    const cron = body.cron.trim();
    const check = checkCron(cron, this.config.jobs.scheduleMinIntervalSeconds);
    if (!check.ok) throw DomainError.invalid('cron', `cron ${check.reason}`);
    const now = new Date();
    const schedule = await this.em.fork().transactional(async (em) => {
      const app = await em.getRepository(Application).findOwned(applicationId, principal);
      // Two PUTs at once: the upsert keeps one row, the last write wins.
      return em.upsert(
        BackupSchedule,
        {
          // An upsert takes no property defaults: each value the insert needs is given.
          id: randomUUID(),
          application: app,
          cron,
          keepLast: body.keepLast,
          mode: body.mode ?? BackupMode.Snapshot,
          compress: body.compress ?? BackupCompression.Zstd,
          enabled: body.enabled ?? true,
          createdAt: now,
          updatedAt: now,
        },
        { onConflictFields: ['application'], onConflictExcludeFields: ['id', 'createdAt'] },
      );
    });
    await this.syncTicks();
    return this.view(schedule);
  }

  async remove(applicationId: string, principal: Principal): Promise<void> {
    const deleted = await this.em.fork().transactional(async (em) => {
      const app = await em.getRepository(Application).findOwned(applicationId, principal);
      return em.nativeDelete(BackupSchedule, { application: app });
    });
    if (deleted === 0) throw DomainError.notFound('Backup schedule');
    await this.syncTicks();
  }

  /**
   * The row is saved either way: when Redis does not answer in time, the
   * workers' sync every minute applies the change.
   */
  private async syncTicks(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('queue did not answer')), ENQUEUE_TIMEOUT_MS);
    });
    try {
      await Promise.race([this.ticks.sync(), timeout]);
    } catch (err) {
      this.logger.warn(
        { err: { message: err instanceof Error ? err.message : 'unknown' } },
        'backup schedule saved; its timer follows with the next sync',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  private view(schedule: BackupSchedule): BackupScheduleDto {
    return BackupScheduleDto.from(
      schedule,
      schedule.enabled ? (nextRuns(schedule.cron, 1)[0] ?? null) : null,
    );
  }
}
