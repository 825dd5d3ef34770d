import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { QueueName } from '../../queue/queue-names';
import { BackupSchedule } from './backup-schedule.entity';
import { SCHEDULE_TIME_ZONE } from './cron-schedule';

export const SCHEDULED_BACKUP_JOB = 'scheduled-backup';

export interface ScheduledBackupJobData {
  scheduleId: string;
}

export interface TickSync {
  added: number;
  removed: number;
}

/**
 * Keeps one Bull repeatable job per enabled schedule, with the schedule's
 * cron: Bull then delivers each tick once, however many workers run. The
 * rows are the truth; `sync` puts Redis back in line with them (after a
 * change, and every minute in case Redis lost its data).
 */
@Injectable()
export class ScheduleTicks {
  constructor(
    private readonly em: EntityManager,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue<ScheduledBackupJobData>,
  ) {}

  async sync(): Promise<TickSync> {
    const wanted = await this.em
      .fork()
      .find(BackupSchedule, { enabled: true }, { fields: ['id', 'cron'] });
    const cronOf = new Map(wanted.map((s) => [s.id, s.cron]));
    const present = (await this.queue.getRepeatableJobs()).filter(
      (job) => job.name === SCHEDULED_BACKUP_JOB,
    );
    let removed = 0;
    const kept = new Set<string>();
    for (const job of present) {
      if (job.id && cronOf.get(job.id) === job.cron && job.tz === SCHEDULE_TIME_ZONE) {
        kept.add(job.id);
        continue;
      }
      await this.queue.removeRepeatableByKey(job.key);
      removed += 1;
    }
    let added = 0;
    for (const [scheduleId, cron] of cronOf) {
      if (kept.has(scheduleId)) continue;
      await this.queue.add(
        SCHEDULED_BACKUP_JOB,
        { scheduleId },
        { repeat: { cron, tz: SCHEDULE_TIME_ZONE }, jobId: scheduleId },
      );
      added += 1;
    }
    return { added, removed };
  }
}
