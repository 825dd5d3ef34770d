import { Injectable } from '@nestjs/common';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import type { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import type { NodeCapacity } from './placement';

/** How long a host's node list serves placements: a burst of deploys asks Proxmox once. */
export const LIVE_NODES_TTL_MS = 5_000;

/** The nodes of a host as Proxmox reports them now, cached for a few seconds per host. */
@Injectable()
export class LiveNodes {
  private readonly cache = new Map<string, { until: number; nodes: Promise<NodeCapacity[]> }>();

  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly hosts: HostsService,
  ) {}

  of(host: ProxmoxHost): Promise<NodeCapacity[]> {
    const now = Date.now();
    const cached = this.cache.get(host.id);
    if (cached && cached.until > now) return cached.nodes;
    const nodes = this.gateway
      .listNodes(this.hosts.connectionFor(host))
      .then((list) =>
        list.map((n) => ({ name: n.name, online: n.online, memoryFree: n.memoryFree })),
      );
    this.cache.set(host.id, { until: now + LIVE_NODES_TTL_MS, nodes });
    // A failure is not cached: the next request asks again.
    nodes.catch(() => {
      if (this.cache.get(host.id)?.nodes === nodes) this.cache.delete(host.id);
    });
    return nodes;
  }
}
