import { EntityManager, type FilterQuery } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { seesAllOwners } from '../common/auth/owner-scope';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import { ACTIVE_OPERATION_STATUSES, Operation, type OperationStatus } from './operation.entity';

export interface OperationFilter {
  applicationId?: string;
  status?: OperationStatus;
}

/** Operations as a caller may see them: those of the applications it owns (admins: all). */
@Injectable()
export class OperationsService {
  constructor(private readonly em: EntityManager) {}

  private scopeOf(principal: Principal): FilterQuery<Operation> {
    return seesAllOwners(principal) ? {} : { application: { owner: principal.userId } };
  }

  async findOwned(id: string, principal: Principal): Promise<Operation> {
    const op = await this.em.findOne(Operation, { $and: [{ id }, this.scopeOf(principal)] });
    if (!op) throw DomainError.notFound('Operation');
    return op;
  }

  async list(
    principal: Principal,
    filter: OperationFilter,
    query: PaginationQuery,
  ): Promise<Page<Operation>> {
    const conditions: FilterQuery<Operation>[] = [this.scopeOf(principal)];
    if (filter.applicationId) conditions.push({ application: filter.applicationId });
    if (filter.status) conditions.push({ status: filter.status });
    const [items, total] = await this.em.findAndCount(
      Operation,
      { $and: conditions },
      {
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        limit: query.perPage,
        offset: query.offset,
      },
    );
    return pageOf(items, total, query);
  }

  /** The queued or running operation of each application that has one, in one statement. */
  async currentOf(applicationIds: readonly string[]): Promise<Map<string, Operation>> {
    if (applicationIds.length === 0) return new Map();
    const ops = await this.em.find(Operation, {
      application: { $in: [...applicationIds] },
      status: { $in: [...ACTIVE_OPERATION_STATUSES] },
    });
    return new Map(ops.map((op) => [op.application.id, op]));
  }
}
