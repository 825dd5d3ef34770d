import { EntityRepository, type FilterQuery } from '@mikro-orm/postgresql';
import { seesAllOwners } from '../common/auth/owner-scope';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import type { Application } from './application.entity';
import { RELEASED_STATUSES_SQL } from './application-status';

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

  /**
   * Whether a live application of any owner holds the hostname, by the rule of
   * the unique index that decides a deploy (case-insensitive, released
   * statuses excluded); a hint only, the index still decides at allocation.
   */
  async hostnameTaken(hostname: string): Promise<boolean> {
    const rows = await this.getEntityManager()
      .getConnection()
      .execute<{ taken: boolean }[]>(
        `select exists(select 1 from application where lower(hostname) = lower(?) and status not in (${RELEASED_STATUSES_SQL})) as taken`,
        [hostname],
      );
    return rows[0]?.taken === true;
  }
}
