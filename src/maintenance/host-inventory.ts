import { Injectable } from '@nestjs/common';
import { ForwardingRules } from '../ports/forwarding-rules';
import type { NftForward } from '../ports/nft-ruleset';
import type { ProxmoxConnection } from '../proxmox/gateway/proxmox-connection';
import { ProxmoxGateway, type TaggedGuest } from '../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../proxmox/hosts/hosts.service';
import type { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import { isNodeName } from '../proxmox/node-name';

/** What one host has, read in one go before anything on it is changed. */
export interface HostInventory {
  connection: ProxmoxConnection;
  guests: TaggedGuest[];
  /** The forwards of Proximity's chain, by node (every online node's). */
  rules: Map<string, NftForward[]>;
}

/**
 * Reads a host's guests and every online node's forwarding rules. Any
 * failure throws: a host that cannot be read whole is left as it is, since
 * a guest or a rule missing from a partial read would look orphaned.
 */
@Injectable()
export class HostInventoryReader {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly hosts: HostsService,
    private readonly forwarding: ForwardingRules,
  ) {}

  async read(host: ProxmoxHost): Promise<HostInventory> {
    const connection = this.hosts.connectionFor(host);
    const [guests, nodes] = await Promise.all([
      this.gateway.listTaggedGuests(connection),
      this.gateway.listNodes(connection),
    ]);
    const rules = new Map<string, NftForward[]>();
    for (const node of nodes) {
      if (!node.online || !isNodeName(node.name)) continue;
      rules.set(node.name, await this.forwarding.list(this.hosts.shellTargetFor(host, node.name)));
    }
    return { connection, guests, rules };
  }
}
