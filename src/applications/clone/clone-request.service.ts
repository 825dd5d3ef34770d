import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { CatalogService } from '../../catalog/catalog.service';
import type { Principal } from '../../common/auth/principal';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/app-config';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationAction, statusAfter } from '../application-state-machine';
import type { ApplicationView } from '../applications.service';
import { CLONE_JOB, DeployQueue } from '../deploy/deploy.queue';

/**
 * `POST /api/apps/:id/clone`: a new application with the source's catalog
 * app, resources, environment and root password (its filesystem is the
 * source's), on the source's node, allocated as a deployment is and enqueued
 * after the commit (503 and nothing left when the queue does not take it).
 *
 * The clone belongs to the source's owner, also when an admin asks: it holds
 * the source's root password and secrets, which only that owner may read.
 */
@Injectable()
export class CloneRequests {
  constructor(
    @InjectPinoLogger(CloneRequests.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly catalog: CatalogService,
    private readonly hosts: HostsService,
    private readonly gateway: ProxmoxGateway,
    private readonly allocator: ApplicationAllocator,
    private readonly queue: DeployQueue,
  ) {}

  async clone(sourceId: string, hostname: string, principal: Principal): Promise<ApplicationView> {
    const em = this.em.fork();
    const source = await em.getRepository(Application).findOwned(sourceId, principal);
    // Checked again under the source's row lock at allocation; here to answer before any Proxmox read.
    statusAfter(source, ApplicationAction.Clone);
    // An adopted container has neither: Proximity never knew its password or its stack.
    if (source.vmid === null || source.rootPassword === null || source.catalogId === null) {
      throw DomainError.conflict(`application '${source.hostname}' cannot be cloned`);
    }
    if (!this.catalog.find(source.catalogId)) {
      throw DomainError.conflict(
        `application '${source.hostname}' cannot be cloned: its catalog app is no longer in the catalog`,
      );
    }
    const host = await em.findOneOrFail(ProxmoxHost, { id: source.host.id });
    const keyring = this.config.keyring;
    const secretEnvironment = source.secretEnvironment
      ? (JSON.parse(keyring.decrypt(source.secretEnvironment)) as Record<string, string>)
      : {};

    const { application, operation } = await this.allocator.allocate({
      ownerId: source.owner.id,
      actorId: principal.userId,
      hostId: host.id,
      node: source.node,
      catalogId: source.catalogId,
      name: source.name,
      hostname,
      resources: {
        cores: source.cores,
        memoryMb: source.memoryMb,
        diskGb: source.diskGb,
        swapMb: source.swapMb,
      },
      environment: source.environment,
      secretEnvironment,
      // The clone's containers publish what the source's do, whatever the catalog says today.
      ports: source.ports.getItems().map((p) => ({
        name: p.name,
        containerPort: p.containerPort,
        protocol: p.protocol,
      })),
      rootPassword: keyring.decrypt(source.rootPassword),
      clusterVmids: await this.clusterVmids(host),
      cloneOf: source.id,
    });
    try {
      await this.queue.enqueue(operation, CLONE_JOB);
    } catch (err) {
      this.logger.warn(
        { applicationId: application.id, operationId: operation.id },
        'clone job not enqueued; allocation undone',
      );
      await this.allocator.discard(application.id);
      throw err;
    }
    return { application, operation };
  }

  /** The cluster's VMIDs for the pick; a failed read in our words (502), the upstream text logged. */
  private async clusterVmids(host: ProxmoxHost): Promise<number[]> {
    try {
      const guests = await this.gateway.listClusterGuests(this.hosts.connectionFor(host));
      return guests.map((g) => g.vmid);
    } catch (err) {
      throw new DomainError(ErrorCode.UpstreamFailed, this.hosts.reasonOf(err, host));
    }
  }
}
