import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import { AuditEntry, AuditOutcome } from './audit-entry.entity';

export interface AuditRecord {
  actorId: string | null;
  action: string;
  resourceType: string;
  resourceId?: string | null;
  ip?: string | null;
  outcome?: AuditOutcome;
}

export interface AuditFilter {
  actorId?: string;
  action?: string;
}

@Injectable()
export class AuditService {
  constructor(private readonly em: EntityManager) {}

  /**
   * Written on its own connection so that an entry survives the rollback of
   * the work it describes (a failed login must be recorded).
   */
  async record(record: AuditRecord): Promise<void> {
    await this.em.fork().insert(AuditEntry, {
      id: randomUUID(),
      actorId: record.actorId,
      action: record.action,
      resourceType: record.resourceType,
      resourceId: record.resourceId ?? null,
      ip: record.ip ?? null,
      outcome: record.outcome ?? AuditOutcome.Success,
      at: new Date(),
    });
  }

  async list(filter: AuditFilter, query: PaginationQuery): Promise<Page<AuditEntry>> {
    const where = {
      ...(filter.actorId ? { actorId: filter.actorId } : {}),
      ...(filter.action ? { action: filter.action } : {}),
    };
    const [items, total] = await this.em.findAndCount(AuditEntry, where, {
      orderBy: { at: 'desc', id: 'desc' },
      limit: query.perPage,
      offset: query.offset,
    });
    return pageOf(items, total, query);
  }
}
