import { EntityManager, LockMode, type RequiredEntityData } from '@mikro-orm/postgresql';
import type { Application } from '../applications/application.entity';
import { DomainError } from '../common/errors/domain-error';
import { ACTIVE_OPERATION_STATUSES, Operation, OperationType } from './operation.entity';

/**
 * Starts an operation on an existing application; every request that does goes
 * through here. The one-active-operation index decides between two operations
 * of the application, but a clone's operation belongs to the copy, so the index
 * does not see that the source is busy while its disk is copied: that is
 * checked here, under the source's row lock, which a clone request also takes
 * before it inserts the copy, so whichever commits first wins.
 */
export async function startOperation(
  em: EntityManager,
  app: Application,
  data: Omit<RequiredEntityData<Operation>, 'application'>,
): Promise<Operation> {
  await em.lock(app, LockMode.PESSIMISTIC_WRITE);
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
  return em.create(Operation, { ...data, application: app });
}
