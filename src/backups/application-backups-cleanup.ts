import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { DeployTarget } from '../applications/deploy/container.steps';
import {
  ACTIVE_OPERATION_STATUSES,
  Operation,
  OperationType,
} from '../operations/operation.entity';
import { BackupArchives } from './backup-archives';
import { Backup } from './backup.entity';

/**
 * The step of an application's delete that removes its backup archives from
 * storage, unless the delete was asked to keep them. The rows go with the
 * application; an archive already gone counts as removed, so a retry is safe.
 */
@Injectable()
export class ApplicationBackupsCleanup {
  constructor(
    private readonly em: EntityManager,
    private readonly archives: BackupArchives,
  ) {}

  async run(applicationId: string, target: DeployTarget): Promise<void> {
    const em = this.em.fork();
    const op = await em.findOne(Operation, {
      application: applicationId,
      type: OperationType.Delete,
      status: { $in: [...ACTIVE_OPERATION_STATUSES] },
    });
    if (op?.options?.keepBackups) return;
    const backups = await em.find(
      Backup,
      { application: applicationId, volid: { $ne: null } },
      { orderBy: { createdAt: 'asc' } },
    );
    for (const backup of backups) {
      if (backup.volid) await this.archives.remove(target.connection, target.node, backup.volid);
    }
  }
}
