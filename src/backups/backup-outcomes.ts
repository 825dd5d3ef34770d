import { EntityManager, LockMode } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Application } from '../applications/application.entity';
import { ApplicationStatus } from '../applications/application-status';
import { MetricsRegistry } from '../metrics/metrics.registry';
import { Operation, OperationStatus, OperationType } from '../operations/operation.entity';
import { Backup, BackupStatus } from './backup.entity';

/**
 * Ends a backup, restore or backup-delete operation: the backup row (locked),
 * the application and the operation change in one transaction, so no row
 * stays creating, restoring or deleting once its operation has ended.
 */
@Injectable()
export class BackupOutcomes {
  constructor(
    private readonly em: EntityManager,
    private readonly metrics: MetricsRegistry,
  ) {}

  /** The backup row of an operation, or null when it is gone (its application was deleted). */
  async backupOf(operationId: string): Promise<Backup | null> {
    return this.em.fork().findOne(Backup, { operation: operationId });
  }

  async succeed(op: Operation, ipAddress: string | null): Promise<void> {
    await this.em.fork().transactional(async (em) => {
      const backup = await this.lock(em, op.id);
      if (op.type === OperationType.BackupDelete) {
        if (backup) em.remove(backup);
      } else if (backup) {
        if (op.type === OperationType.Restore) {
          const app = await em.findOneOrFail(Application, { id: op.application.id });
          app.status = backup.startAfterRestore
            ? ApplicationStatus.Running
            : ApplicationStatus.Stopped;
          app.lastError = null;
          if (ipAddress) app.ipAddress = ipAddress;
        } else {
          backup.completedAt = new Date();
        }
        backup.status = BackupStatus.Completed;
        backup.startAfterRestore = null;
        backup.error = null;
      }
      await em.flush();
      await this.finish(em, op.id, null);
    });
    this.metrics.operationEnded(op, 'succeeded');
  }

  /**
   * A failed backup is `failed`; a failed restore or delete leaves the
   * archive as it was, so the backup is `completed` again (a restore can be
   * tried again) and the restored application shows `error`.
   */
  async fail(op: Operation, message: string): Promise<void> {
    await this.em.fork().transactional(async (em) => {
      const backup = await this.lock(em, op.id);
      if (backup && op.type === OperationType.Backup) {
        backup.status = BackupStatus.Failed;
        backup.error = message;
      } else if (backup) {
        backup.status = BackupStatus.Completed;
        backup.startAfterRestore = null;
        if (op.type === OperationType.BackupDelete) backup.error = message;
      }
      if (op.type === OperationType.Restore) {
        const app = await em.findOne(Application, { id: op.application.id });
        if (app) {
          app.status = ApplicationStatus.Error;
          app.lastError = message;
        }
      }
      await em.flush();
      await this.finish(em, op.id, message);
    });
    this.metrics.operationEnded(op, 'failed');
  }

  private async lock(em: EntityManager, operationId: string): Promise<Backup | null> {
    return em.findOne(Backup, { operation: operationId }, { lockMode: LockMode.PESSIMISTIC_WRITE });
  }

  private async finish(em: EntityManager, operationId: string, error: string | null) {
    await em.nativeUpdate(
      Operation,
      { id: operationId },
      {
        status: error === null ? OperationStatus.Succeeded : OperationStatus.Failed,
        error,
        ...(error === null ? { progress: 100 } : {}),
        finishedAt: new Date(),
      },
    );
  }
}
