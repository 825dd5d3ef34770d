import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { ProxmoxConnection } from '../../proxmox/gateway/proxmox-connection';
import { BackupArchives } from '../backup-archives';
import { Backup, BackupStatus } from '../backup.entity';
import { BackupSchedule } from './backup-schedule.entity';

export interface RetentionTarget {
  applicationId: string;
  /** The backup just made: it counts as the newest one kept. */
  backupId: string;
  connection: ProxmoxConnection;
  node: string;
  report(message: string): Promise<void>;
}

/**
 * After a scheduled backup: the application's completed scheduled backups
 * beyond its schedule's `keepLast` (oldest first) lose their archive, then
 * their row. Manual backups are never touched, nor is anything while the
 * application has no schedule. Best effort: a backup that cannot be removed
 * now stays, and the next scheduled backup tries again, so a storage hiccup
 * never fails the backup just made.
 */
@Injectable()
export class ScheduledRetention {
  constructor(
    @InjectPinoLogger(ScheduledRetention.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly archives: BackupArchives,
  ) {}

  async prune(target: RetentionTarget): Promise<number> {
    const em = this.em.fork();
    const schedule = await em.findOne(BackupSchedule, { application: target.applicationId });
    if (!schedule) return 0;
    const surplus = await em.find(
      Backup,
      {
        application: target.applicationId,
        scheduled: true,
        status: BackupStatus.Completed,
        id: { $ne: target.backupId },
      },
      { orderBy: { createdAt: 'desc', id: 'desc' }, offset: schedule.keepLast - 1 },
    );
    let removed = 0;
    for (const backup of surplus) {
      try {
        if (backup.volid !== null) {
          await this.archives.remove(target.connection, target.node, backup.volid);
        }
        await em.nativeDelete(Backup, { id: backup.id, status: BackupStatus.Completed });
        removed += 1;
      } catch (err) {
        this.logger.warn(
          { backupId: backup.id, err: { message: err instanceof Error ? err.message : 'unknown' } },
          'a scheduled backup beyond keepLast could not be removed',
        );
        await target.report(
          `the scheduled backup of ${backup.createdAt.toISOString()} could not be removed yet; the next scheduled backup tries again`,
        );
      }
    }
    if (removed > 0) {
      await target.report(
        `removed ${removed} scheduled backup(s) beyond the ${schedule.keepLast} kept`,
      );
    }
    return removed;
  }
}
