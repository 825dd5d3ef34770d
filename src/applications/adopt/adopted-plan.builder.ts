import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { PortAllocation } from '../../ports/port-allocation.entity';
import { Application } from '../application.entity';
import type { DeployTarget } from '../deploy/container.steps';
import type { PortMapping } from '../deploy/deploy.steps';

/** What the steps of an adopted container need: no catalog app, no secret. */
export interface AdoptedPlan {
  target: DeployTarget;
  applicationId: string;
  vmid: number;
  /** The hostname captured at adoption: how a destroy recognises the container. */
  hostname: string;
  /** The exposed ports, the URL's first. */
  ports: readonly PortMapping[];
}

export interface BuiltAdoptedPlan {
  plan: AdoptedPlan;
  host: ProxmoxHost;
}

/** Builds an adopted application's plan from its rows, for one attempt. */
@Injectable()
export class AdoptedPlanBuilder {
  constructor(
    private readonly em: EntityManager,
    private readonly hosts: HostsService,
  ) {}

  async build(applicationId: string): Promise<BuiltAdoptedPlan> {
    const em = this.em.fork();
    const application = await em.findOneOrFail(Application, { id: applicationId });
    if (application.vmid === null) {
      // Only a finished (released) adoption lacks it.
      throw new Error('the application holds no container');
    }
    const host = await em.findOneOrFail(ProxmoxHost, { id: application.host.id });
    // Allocated in the order of exposePorts from the lowest free port: public-port order is theirs.
    const ports = await em.find(
      PortAllocation,
      { application: applicationId },
      { orderBy: { port: 'asc', protocol: 'asc' } },
    );
    return {
      host,
      plan: {
        target: {
          connection: this.hosts.connectionFor(host),
          node: application.node,
          shell: this.hosts.shellTargetFor(host, application.node),
        },
        applicationId,
        vmid: application.vmid,
        hostname: application.hostname,
        ports: ports.map((p) => ({
          publicPort: p.port,
          containerPort: p.containerPort,
          protocol: p.protocol,
        })),
      },
    };
  }
}
