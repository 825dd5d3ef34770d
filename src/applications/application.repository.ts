import { EntityRepository, type FilterQuery, type QueryOrderMap } from '@mikro-orm/postgresql';
import { seesAllOwners } from '../common/auth/owner-scope';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import type { Application } from './application.entity';
import type { ApplicationStatus } from './application-status';

export type ApplicationSort =
  'createdAt' | '-createdAt' | 'name' | '-name' | 'hostname' | '-hostname';

export interface ApplicationFilter {
  status?: ApplicationStatus;
  /** Matches name or hostname, case-insensitive, as plain text (no wildcards). */
  search?: string;
  hostId?: string;
  sort?: ApplicationSort;
}

/** Who may read an application: its owner and admins, or (credentials) its owner alone. */
export type Visibility = 'owner-or-admin' | 'owner-only';

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

function orderOf(sort: ApplicationSort): QueryOrderMap<Application>[] {
  const field = sort.replace(/^-/, '') as 'createdAt' | 'name' | 'hostname';
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  return [{ [field]: direction }, { id: direction }];
}

/**
 * Applications as a caller may see them. Every read takes the principal, so
 * an unscoped read is not the easy path; a foreign id and a missing one give
 * the same 404.
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
   * A page, then the ports of its applications in one more statement: the
   * same statements whatever the page size. Not joined: with a join the ORM
   * pages through a grouped subquery over every application and its ports.
   */
  async listOwned(
    principal: Principal,
    filter: ApplicationFilter,
    query: PaginationQuery,
  ): Promise<Page<Application>> {
    const conditions: FilterQuery<Application>[] = [this.scopeOf(principal)];
    if (filter.status) conditions.push({ status: filter.status });
    if (filter.hostId) conditions.push({ host: filter.hostId });
    if (filter.search) {
      const pattern = `%${escapeLike(filter.search)}%`;
      conditions.push({ $or: [{ name: { $ilike: pattern } }, { hostname: { $ilike: pattern } }] });
    }
    const [items, total] = await this.findAndCount(
      { $and: conditions },
      {
        populate: ['ports'],
        strategy: 'select-in',
        orderBy: orderOf(filter.sort ?? '-createdAt'),
        limit: query.perPage,
        offset: query.offset,
      },
    );
    return pageOf(items, total, query);
  }
}
