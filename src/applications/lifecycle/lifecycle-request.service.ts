import {
  EntityManager,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import {
  ACTIVE_OPERATION_STATUSES,
  Operation,
  type OperationOptions,
  OperationType,
} from '../../operations/operation.entity';
import { Application } from '../application.entity';
import type { ApplicationStatus } from '../application-status';
import { ApplicationAction, statusAfter } from '../application-state-machine';
import { LifecycleQueue } from './lifecycle.queue';

const TYPE_OF = {
  [ApplicationAction.Start]: OperationType.Start,
  [ApplicationAction.Stop]: OperationType.Stop,
  [ApplicationAction.Restart]: OperationType.Restart,
  [ApplicationAction.Delete]: OperationType.Delete,
} as const;

export type LifecycleAction = keyof typeof TYPE_OF;

/**
 * Accepts a lifecycle action: in one transaction the state machine checks the
 * application's status (409 with the reason), the operation is inserted (the
 * one-active-operation index makes a concurrent second one a 409) and the
 * application shows the transitional status; the job is enqueued after the
 * commit, and undone with a 503 when the queue does not take it.
 */
@Injectable()
export class LifecycleRequests {
  constructor(
    private readonly em: EntityManager,
    private readonly queue: LifecycleQueue,
  ) {}

  /** `options`: how a delete treats an adopted container and the backup archives. */
  async request(
    id: string,
    action: LifecycleAction,
    principal: Principal,
    options: OperationOptions | null = null,
  ): Promise<Operation> {
    let before: ApplicationStatus;
    let operation: Operation;
    try {
      operation = await this.em.fork().transactional(async (em) => {
        const app = await em.getRepository(Application).findOwned(id, principal);
        before = app.status;
        const next = statusAfter(app, action);
        if (next !== null) app.status = next;
        const op = em.create(Operation, {
          type: TYPE_OF[action],
          application: app,
          actorId: principal.userId,
          options,
        });
        await em.flush();
        // After the flush: the row lock it took orders this check against a clone
        // request, which locks its source row before it inserts the clone.
        await assertNotBeingCloned(em, app);
        return op;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException || err instanceof OptimisticLockError) {
        throw DomainError.conflict('another operation on this application is under way');
      }
      throw err;
    }
    try {
      await this.queue.enqueue(operation);
    } catch (err) {
      await this.em.fork().transactional(async (em) => {
        await em.nativeDelete(Operation, { id: operation.id });
        await em.nativeUpdate(Application, { id }, { status: before });
      });
      throw err;
    }
    return operation;
  }
}

/** A clone copies the source's disk: it must not stop, restart or vanish under the copy. */
async function assertNotBeingCloned(em: EntityManager, app: Application): Promise<void> {
  const clones = await em.count(Operation, {
    type: OperationType.Clone,
    status: { $in: [...ACTIVE_OPERATION_STATUSES] },
    application: { clonedFrom: app.id },
  });
  if (clones > 0) {
    throw DomainError.conflict(
      `application '${app.hostname}' is being cloned; try again when the clone has finished`,
    );
  }
}
