import {
  EntityManager,
  OptimisticLockError,
  UniqueConstraintViolationException,
} from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import { Operation, type OperationOptions, OperationType } from '../../operations/operation.entity';
import { startOperation } from '../../operations/operation-start';
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
        const op = await startOperation(em, app, {
          type: TYPE_OF[action],
          actorId: principal.userId,
          options,
        });
        await em.flush();
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
