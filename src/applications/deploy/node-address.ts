import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import type { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { ProxmoxNode } from '../../proxmox/hosts/proxmox-node.entity';
import type { DeployTarget } from './container.steps';

/**
 * Where an application's node answers: forwarded ports listen on the node
 * that runs the container, which on a cluster is not the host Proximity calls.
 */
@Injectable()
export class NodeAddress {
  constructor(
    @InjectPinoLogger(NodeAddress.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
  ) {}

  /**
   * The address the last sync stored; for a node never synced, the cluster's
   * answer now; the host's own address when neither is known (a stand-alone
   * node is the host).
   */
  async of({ plan, host }: { plan: { target: DeployTarget }; host: ProxmoxHost }): Promise<string> {
    const node = plan.target.node;
    const stored = await this.em
      .fork()
      .findOne(ProxmoxNode, { host: host.id, name: node }, { fields: ['address'] });
    if (stored?.address) return stored.address;
    try {
      const live = (await this.gateway.nodeAddresses(plan.target.connection)).get(node);
      if (live) return live;
    } catch (err) {
      this.logger.warn(
        { hostId: host.id, node, err: { message: (err as Error).message } },
        "the node's address could not be read; the application URL uses the host's",
      );
    }
    return host.host;
  }
}
