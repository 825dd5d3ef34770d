import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import { pageOf, type Page } from '../../common/pagination/pagination';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import type { DiscoveredContainerDto, DiscoverQuery } from './adopt.dto';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

const inUnits = (bytes: number | null, unit: number): number | null =>
  bytes === null ? null : Math.round(bytes / unit);

/**
 * The containers of a host that no application manages, from one cluster
 * listing: every VMID an application row of the host holds is left out,
 * whatever its status (one being deployed included).
 */
@Injectable()
export class ContainerDiscovery {
  constructor(
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
    private readonly hosts: HostsService,
  ) {}

  async discover(query: DiscoverQuery): Promise<Page<DiscoveredContainerDto>> {
    const em = this.em.fork();
    const host = await em.findOne(
      ProxmoxHost,
      query.hostId ? { id: query.hostId } : { isDefault: true },
    );
    if (!host && query.hostId) {
      throw DomainError.invalid('hostId', 'hostId does not name a Proxmox host');
    }
    // No host at all: nothing to discover.
    if (!host) return pageOf([], 0, query);
    let listed;
    try {
      listed = await this.gateway.listClusterContainers(this.hosts.connectionFor(host));
    } catch (err) {
      throw new DomainError(ErrorCode.UpstreamFailed, this.hosts.reasonOf(err, host));
    }
    const managed = new Set(
      (
        await em.execute<{ vmid: number }[]>(
          'select vmid from application where host_id = ? and vmid is not null',
          [host.id],
        )
      ).map((row) => row.vmid),
    );
    const unmanaged = listed
      .filter((c) => !managed.has(c.vmid))
      .sort((a, b) => a.vmid - b.vmid)
      .map((c) => ({
        vmid: c.vmid,
        node: c.node,
        hostname: c.hostname,
        status: c.status,
        cores: c.cores,
        memoryMb: inUnits(c.memoryBytes, MIB),
        diskGb: inUnits(c.diskBytes, GIB),
      }));
    return pageOf(
      unmanaged.slice(query.offset, query.offset + query.perPage),
      unmanaged.length,
      query,
    );
  }
}
