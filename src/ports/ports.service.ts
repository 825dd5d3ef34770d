import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { pageOf, type Page, type PaginationQuery } from '../common/pagination/pagination';
import { PortAllocation } from './port-allocation.entity';

export interface PoolUsage {
  hostId: string;
  min: number;
  max: number;
  used: number;
  free: number;
}

export interface PortsOverview extends Page<PortAllocation> {
  ranges: PoolUsage[];
  used: number;
  free: number;
}

@Injectable()
export class PortsService {
  constructor(private readonly em: EntityManager) {}

  /** A page of allocations, and the pool of each host (or one host) with its usage. */
  async overview(hostId: string | undefined, query: PaginationQuery): Promise<PortsOverview> {
    const [items, total] = await this.em.findAndCount(
      PortAllocation,
      hostId ? { host: hostId } : {},
      {
        orderBy: [{ host: 'asc' }, { port: 'asc' }, { protocol: 'asc' }],
        limit: query.perPage,
        offset: query.offset,
      },
    );
    // Counted in the database: a pool may hold thousands of allocations.
    const rows = await this.em.execute<
      { hostId: string; min: number; max: number; used: string }[]
    >(
      `select h.id as "hostId", h.port_min as min, h.port_max as max,
              count(distinct p.port) filter (where p.port between h.port_min and h.port_max) as used
         from proxmox_host h left join port_allocation p on p.host_id = h.id
        where (?::uuid is null or h.id = ?::uuid)
        group by h.id order by h.name, h.id`,
      [hostId ?? null, hostId ?? null],
    );
    const ranges = rows.map((r) => {
      const used = Number(r.used);
      return { hostId: r.hostId, min: r.min, max: r.max, used, free: r.max - r.min + 1 - used };
    });
    return {
      ...pageOf(items, total, query),
      ranges,
      used: ranges.reduce((sum, r) => sum + r.used, 0),
      free: ranges.reduce((sum, r) => sum + r.free, 0),
    };
  }
}
