import {
  EntityManager,
  LockMode,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Application } from '../applications/application.entity';
import { ApplicationStatus } from '../applications/application-status';
import { ApplicationAction, statusAfter } from '../applications/application-state-machine';
import { CatalogService } from '../catalog/catalog.service';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { Operation, OperationType } from '../operations/operation.entity';
import { startOperation } from '../operations/operation-start';
import { Backup, BackupCompression, BackupMode, BackupStatus } from './backup.entity';
import { BackupQueue } from './backup.queue';

export interface BackupRequest {
  mode: BackupMode;
  compress: BackupCompression;
  notes: string | null;
}

export interface Accepted {
  backup: Backup;
  operation: Operation;
}

/** What an accepted request changed, to undo when the queue does not take its job. */
interface Undo {
  operationId: string;
  backupId: string;
  /** The backup row's status before; null: the row was created by the request. */
  backupStatus: BackupStatus | null;
  applicationStatus: ApplicationStatus | null;
}

const BUSY = 'another operation on this application is under way';

/**
 * Accepts backup, restore and backup-delete requests: in one transaction the
 * backup row is locked and its status checked, the operation is inserted
 * (the one-active-operation index makes a concurrent second one a 409) and
 * the rows show the transitional status; the job is enqueued after the
 * commit, and everything undone with a 503 when the queue does not take it.
 */
@Injectable()
export class BackupRequests {
  constructor(
    private readonly em: EntityManager,
    private readonly queue: BackupQueue,
    private readonly catalog: CatalogService,
  ) {}

  async create(applicationId: string, request: BackupRequest, principal: Principal) {
    return this.accept((em) =>
      this.createIn(
        em,
        () => em.getRepository(Application).findOwned(applicationId, principal),
        request,
        { actorId: principal.userId, scheduled: false },
      ),
    );
  }

  /** A schedule's backup: started by the system, pruned by the schedule's `keepLast`. */
  async createScheduled(applicationId: string, request: BackupRequest) {
    return this.accept((em) =>
      this.createIn(em, () => em.findOneOrFail(Application, { id: applicationId }), request, {
        actorId: null,
        scheduled: true,
      }),
    );
  }

  private async createIn(
    em: EntityManager,
    load: () => Promise<Application>,
    request: BackupRequest,
    by: { actorId: string | null; scheduled: boolean },
  ) {
    const app = await load();
    statusAfter(app, ApplicationAction.Backup);
    // A restore verifies the catalog app's services, which an adopted container does not have.
    if (app.catalogId === null) {
      throw DomainError.conflict(
        `application '${app.hostname}' was adopted; Proximity does not back up adopted containers`,
      );
    }
    const op = await startOperation(em, app, {
      type: OperationType.Backup,
      actorId: by.actorId,
    });
    const backup = em.create(Backup, {
      application: app,
      mode: request.mode,
      compress: request.compress,
      notes: request.notes,
      scheduled: by.scheduled,
      catalogVersion: this.catalog.find(app.catalogId)?.version ?? 'unknown',
      operation: op,
    });
    return {
      accepted: { backup, operation: op },
      undo: { backupStatus: null, applicationStatus: null },
    };
  }

  async restore(applicationId: string, backupId: string, principal: Principal) {
    return this.accept(async (em) => {
      const app = await em.getRepository(Application).findOwned(applicationId, principal);
      const backup = await this.lockBackup(em, app, backupId);
      if (backup.status !== BackupStatus.Completed) {
        throw DomainError.invalid('backupId', `the backup is ${backup.status}, not completed`);
      }
      const before = app.status;
      const next = statusAfter(app, ApplicationAction.Restore);
      if (next !== null) app.status = next;
      const op = await startOperation(em, app, {
        type: OperationType.Restore,
        actorId: principal.userId,
      });
      backup.status = BackupStatus.Restoring;
      backup.operation = em.getReference(Operation, op.id, { wrapped: true });
      backup.startAfterRestore = before === ApplicationStatus.Running;
      return {
        accepted: { backup, operation: op },
        undo: { backupStatus: BackupStatus.Completed, applicationStatus: before },
      };
    });
  }

  async delete(applicationId: string, backupId: string, principal: Principal) {
    return this.accept(async (em) => {
      const app = await em.getRepository(Application).findOwned(applicationId, principal);
      const backup = await this.lockBackup(em, app, backupId);
      if (backup.status === BackupStatus.Creating || backup.status === BackupStatus.Restoring) {
        throw DomainError.conflict(`the backup is ${backup.status}; try again when that has ended`);
      }
      if (backup.status === BackupStatus.Deleting) throw DomainError.conflict(BUSY);
      const before = backup.status;
      const op = await startOperation(em, app, {
        type: OperationType.BackupDelete,
        actorId: principal.userId,
      });
      backup.status = BackupStatus.Deleting;
      backup.operation = em.getReference(Operation, op.id, { wrapped: true });
      return {
        accepted: { backup, operation: op },
        undo: { backupStatus: before, applicationStatus: null },
      };
    });
  }

  private async lockBackup(em: EntityManager, app: Application, backupId: string) {
    const backup = await em.findOne(
      Backup,
      { id: backupId, application: app.id },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    if (!backup) throw DomainError.notFound('Backup');
    return backup;
  }

  private async accept(
    change: (
      em: EntityManager,
    ) => Promise<{ accepted: Accepted; undo: Omit<Undo, 'operationId' | 'backupId'> }>,
  ): Promise<Accepted> {
    let result: { accepted: Accepted; undo: Undo };
    try {
      result = await this.em.fork().transactional(async (em) => {
        const { accepted, undo } = await change(em);
        await em.flush();
        return {
          accepted,
          undo: { ...undo, operationId: accepted.operation.id, backupId: accepted.backup.id },
        };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException || err instanceof OptimisticLockError) {
        throw DomainError.conflict(BUSY);
      }
      throw err;
    }
    try {
      await this.queue.enqueue(result.accepted.operation);
    } catch (err) {
      await this.undo(result.undo);
      throw err;
    }
    return result.accepted;
  }

  private async undo(undo: Undo): Promise<void> {
    await this.em.fork().transactional(async (em) => {
      const backup = await em.findOne(
        Backup,
        { id: undo.backupId },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      const op = await em.findOneOrFail(Operation, { id: undo.operationId });
      if (backup && undo.backupStatus === null) em.remove(backup);
      if (backup && undo.backupStatus !== null) {
        backup.status = undo.backupStatus;
        backup.startAfterRestore = null;
      }
      if (undo.applicationStatus !== null) {
        await em.nativeUpdate(
          Application,
          { id: op.application.id },
          { status: undo.applicationStatus },
        );
      }
      await em.flush();
      em.remove(op);
    });
  }
}
