import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { seesAllOwners } from '../common/auth/owner-scope';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import type { Application } from './application.entity';

/** Who may read an application: its owner and admins, or (credentials) its owner alone. */
export type Visibility = 'owner-or-admin' | 'owner-only';

/**
 * Applications as a caller may see them. Every read takes the principal, so
 * an unscoped read is not the easy path; a foreign id and a missing one give
 * the same 404. The list is read without entities (ApplicationListReader).
 */
export class ApplicationRepository extends EntityRepository<Application> {
  private scopeOf(
    principal: Principal,
    visibility: Visibility = 'owner-or-admin',
  ): FilterQuery<Application> {
    return visibility === 'owner-or-admin' && seesAllOwners(principal)
      ? {}
      : { owner: principal.userId };
  }

  /** The application with its ports; 404 when missing or not visible to the principal. */
  async findOwned(
    id: string,
    principal: Principal,
    visibility: Visibility = 'owner-or-admin',
  ): Promise<Application> {
    const app = await this.findOne(
      { $and: [{ id }, this.scopeOf(principal, visibility)] },
      { populate: ['ports'] },
    );
    if (!app) throw DomainError.notFound('Application');
    return app;
  }
}
