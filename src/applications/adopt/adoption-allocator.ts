import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { DomainError } from '../../common/errors/domain-error';
import { Operation, OperationType } from '../../operations/operation.entity';
import { PortAllocation } from '../../ports/port-allocation.entity';
import { pickPorts, type HeldPort } from '../../ports/port-pool';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import type { Allocation } from '../allocation/application-allocator';
import type { CapturedConfig } from './container-config';

export interface AdoptionRequest {
  ownerId: string;
  actorId: string;
  hostId: string;
  node: string;
  vmid: number;
  name: string;
  captured: CapturedConfig;
  /** Container TCP ports; each gets a public port of the host's pool. */
  exposePorts: readonly number[];
}

const HOST_VMID_INDEX = 'application_host_id_vmid_unique';
const HOSTNAME_INDEX = 'application_hostname_live_unique';

function managed(vmid: number): DomainError {
  return DomainError.conflict(`VMID ${vmid} is already managed by an application`);
}

/** A public port's name: adopted containers have no catalog to name them. */
export function exposedPortName(containerPort: number): string {
  return `tcp-${containerPort}`;
}

/**
 * Reserves an existing container for an application in one transaction
 * under the host row lock, as a deployment is allocated: the row (adopted,
 * status adopting), public ports for the exposed ports and the queued adopt
 * operation. Whether another application manages the container is
 * checked under that lock and backed by the unique (host, VMID) index; the
 * hostname index decides whether the name is free.
 */
@Injectable()
export class AdoptionAllocator {
  constructor(private readonly em: EntityManager) {}

  async allocate(req: AdoptionRequest): Promise<Allocation> {
    try {
      return await this.em.fork().transactional(async (em) => {
        const host = await em.findOne(
          ProxmoxHost,
          { id: req.hostId },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!host) throw DomainError.invalid('hostId', 'hostId does not name a Proxmox host');
        // Said before the hostname: a managed container also has a live application's hostname.
        if ((await em.count(Application, { host, vmid: req.vmid })) > 0) throw managed(req.vmid);
        const held = await em.execute<HeldPort[]>(
          'select port, protocol from port_allocation where host_id = ?',
          [host.id],
        );
        const publicPorts = pickPorts(
          { min: host.portMin, max: host.portMax },
          held,
          req.exposePorts.map(() => 'tcp' as const),
        );
        if (publicPorts === null) {
          throw DomainError.unavailable('no free public port is left on this host');
        }
        const application = em.create(Application, {
          owner: req.ownerId,
          host,
          node: req.node,
          vmid: req.vmid,
          name: req.name,
          ...req.captured,
          adopted: true,
          status: ApplicationStatus.Adopting,
        });
        req.exposePorts.forEach((containerPort, i) =>
          em.create(PortAllocation, {
            host,
            port: publicPorts[i],
            protocol: 'tcp',
            application,
            name: exposedPortName(containerPort),
            containerPort,
          }),
        );
        const operation = em.create(Operation, {
          type: OperationType.Adopt,
          application,
          actorId: req.actorId,
        });
        await em.flush();
        return { application, operation };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        const constraint = (err as { constraint?: string }).constraint;
        if (constraint === HOST_VMID_INDEX) throw managed(req.vmid);
        if (constraint === HOSTNAME_INDEX) {
          throw DomainError.conflict(`hostname '${req.captured.hostname}' is taken`);
        }
      }
      throw err;
    }
  }
}
