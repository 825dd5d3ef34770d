import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { seesAllOwners } from '../common/auth/owner-scope';
import type { Principal } from '../common/auth/principal';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import {
  ACTIVE_OPERATION_STATUSES,
  type OperationStatus,
  type OperationType,
} from '../operations/operation.entity';
import type { OperationDto } from '../operations/operations.dto';
import type { ApplicationStatus } from './application-status';
import {
  maskedEnvironment,
  type ApplicationDto,
  type ApplicationPortDto,
} from './applications.dto';

/** One row of the page statement, as the ORM's `pg` types it (json parsed, timestamps as text). */
interface ListRow {
  id: string;
  name: string;
  hostname: string;
  catalog_id: string | null;
  status: ApplicationStatus;
  host_id: string;
  node: string;
  vmid: number | null;
  owner_id: string;
  adopted: boolean;
  cores: number;
  memory_mb: number;
  disk_gb: number;
  url: string | null;
  ip_address: string | null;
  environment: Record<string, string>;
  secret_environment_keys: string[];
  last_error: string | null;
  created_at: string;
  updated_at: string;
  ports: ApplicationPortDto[];
  op_id: string | null;
  op_type: OperationType;
  op_status: OperationStatus;
  op_progress: number;
  op_step: string | null;
  op_attempts: number;
  op_max_attempts: number;
  op_error: string | null;
  op_created_at: string;
  op_started_at: string | null;
  op_finished_at: string | null;
}

export type ApplicationSort =
  'createdAt' | '-createdAt' | 'name' | '-name' | 'hostname' | '-hostname';

export interface ApplicationFilter {
  status?: ApplicationStatus;
  /** Matches name or hostname, case-insensitive, as plain text (no wildcards). */
  search?: string;
  hostId?: string;
  sort?: ApplicationSort;
}

/** The count beside each row of the page, or alone when the page is empty. */
type CountedRow = { total: number } & (ListRow | { id: null });

const SORT_COLUMNS: Record<string, string> = {
  createdAt: 'created_at',
  name: 'name',
  hostname: 'hostname',
};

const escapeLike = (text: string): string => text.replace(/[\\%_]/g, (c) => `\\${c}`);

// The active operation is joined: the partial unique index allows at most one
// per application, so the join never multiplies a row. Ports come as one json
// array per row, ordered as the entity's collection orders them.
const PAGE_COLUMNS = `
  a.id, a.name, a.hostname, a.catalog_id, a.status, a.host_id, a.node, a.vmid, a.owner_id,
  a.adopted, a.cores, a.memory_mb, a.disk_gb, a.url, a.ip_address, a.environment,
  a.secret_environment_keys, a.last_error, a.created_at, a.updated_at,
  coalesce((
    select json_agg(json_build_object('name', p.name, 'containerPort', p.container_port,
                                      'publicPort', p.port, 'protocol', p.protocol)
                    order by p.port, p.protocol)
    from port_allocation p where p.application_id = a.id), '[]') as ports,
  o.id as op_id, o.type as op_type, o.status as op_status, o.progress as op_progress,
  o.step as op_step, o.attempts as op_attempts, o.max_attempts as op_max_attempts,
  o.error as op_error, o.created_at as op_created_at, o.started_at as op_started_at,
  o.finished_at as op_finished_at`;

const ACTIVE_STATUSES = ACTIVE_OPERATION_STATUSES.map((status) => `'${status}'`).join(', ');

/**
 * The application list, read as plain rows and mapped straight to the
 * response: hydrating every application, port and operation as entities cost
 * several times the SQL itself. One statement whatever the page size (the
 * count and the page together). Scoping and filters match the repository's reads:
 * owners see their own, admins all.
 */
@Injectable()
export class ApplicationListReader {
  constructor(private readonly em: EntityManager) {}

  async page(
    principal: Principal,
    filter: ApplicationFilter,
    query: PaginationQuery,
  ): Promise<Page<ApplicationDto>> {
    const { where, params } = conditionsOf(principal, filter);
    const sort = filter.sort ?? '-createdAt';
    // The count and the page in one round trip; the count's row stands alone
    // (page columns null) when the page is past the end.
    const rows = await this.em.getConnection().execute<CountedRow[]>(
      `select counted.total, page.*
       from (select count(*)::int as total from application a ${where}) counted
       left join lateral (
         select ${PAGE_COLUMNS}
         from application a
         left join operation o on o.application_id = a.id and o.status in (${ACTIVE_STATUSES})
         ${where}
         order by ${orderOf('a', sort)}
         limit ? offset ?
       ) page on true
       order by ${orderOf('page', sort)}`,
      [...params, ...params, query.perPage, query.offset],
    );
    const platform = this.em.getPlatform();
    const date: DateOf = (text) => platform.parseDate(text);
    return pageOf(
      rows
        .filter((row): row is CountedRow & ListRow => row.id !== null)
        .map((row) => dtoOf(row, date)),
      rows[0].total,
      query,
    );
  }
}

function conditionsOf(
  principal: Principal,
  filter: ApplicationFilter,
): { where: string; params: unknown[] } {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (!seesAllOwners(principal)) {
    conditions.push('a.owner_id = ?');
    params.push(principal.userId);
  }
  if (filter.status) {
    conditions.push('a.status = ?');
    params.push(filter.status);
  }
  if (filter.hostId) {
    conditions.push('a.host_id = ?');
    params.push(filter.hostId);
  }
  if (filter.search) {
    const pattern = `%${escapeLike(filter.search)}%`;
    conditions.push('(a.name ilike ? or a.hostname ilike ?)');
    params.push(pattern, pattern);
  }
  return { where: conditions.length ? `where ${conditions.join(' and ')}` : '', params };
}

function orderOf(alias: string, sort: ApplicationSort): string {
  const column = SORT_COLUMNS[sort.replace(/^-/, '')];
  const direction = sort.startsWith('-') ? 'desc' : 'asc';
  return `${alias}.${column} ${direction}, ${alias}.id ${direction}`;
}

/** Timestamps as the entities would read them, through the ORM's own parser. */
type DateOf = (text: string) => Date;

function dtoOf(row: ListRow, date: DateOf): ApplicationDto {
  return {
    id: row.id,
    name: row.name,
    hostname: row.hostname,
    catalogId: row.catalog_id,
    status: row.status,
    hostId: row.host_id,
    node: row.node,
    vmid: row.vmid,
    ownerId: row.owner_id,
    adopted: row.adopted,
    resources: { cores: row.cores, memoryMb: row.memory_mb, diskGb: row.disk_gb },
    ports: row.ports,
    url: row.url,
    ipAddress: row.ip_address,
    environment: maskedEnvironment(row.environment, row.secret_environment_keys),
    operation: operationOf(row, date),
    lastError: row.last_error,
    createdAt: date(row.created_at),
    updatedAt: date(row.updated_at),
  };
}

function operationOf(row: ListRow, date: DateOf): OperationDto | null {
  if (row.op_id === null) return null;
  return {
    id: row.op_id,
    type: row.op_type,
    status: row.op_status,
    progress: row.op_progress,
    step: row.op_step,
    attempts: row.op_attempts,
    maxAttempts: row.op_max_attempts,
    error: row.op_error,
    applicationId: row.id,
    createdAt: date(row.op_created_at),
    startedAt: row.op_started_at === null ? null : date(row.op_started_at),
    finishedAt: row.op_finished_at === null ? null : date(row.op_finished_at),
  };
}
