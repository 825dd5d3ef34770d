import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AuditAction } from '../../audit/audit-actions';
import { AuditService } from '../../audit/audit.service';
import { type Actor, actorId } from '../../common/auth/actor';
import type { Principal } from '../../common/auth/principal';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { User } from '../../users/user.entity';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { LiveNodes } from '../allocation/live-nodes';
import type { ApplicationView } from '../applications.service';
import type { AdoptBody } from './adopt.dto';
import { AdoptQueue } from './adopt.queue';
import { AdoptionAllocator } from './adoption-allocator';
import { type CapturedConfig, captureConfig } from './container-config';

/**
 * `POST /api/apps/adopt`: checks the owner, host, node and container live,
 * reserves the container for a new adopted application (409 when one
 * manages it already) and enqueues the adopt job after the commit; a queue
 * that does not take it undoes the reservation (503).
 */
@Injectable()
export class AdoptRequests {
  constructor(
    @InjectPinoLogger(AdoptRequests.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly hosts: HostsService,
    private readonly gateway: ProxmoxGateway,
    private readonly liveNodes: LiveNodes,
    private readonly allocator: AdoptionAllocator,
    private readonly applications: ApplicationAllocator,
    private readonly queue: AdoptQueue,
    private readonly audit: AuditService,
  ) {}

  async adopt(body: AdoptBody, actor: Actor & { principal: Principal }): Promise<ApplicationView> {
    const em = this.em.fork();
    const owner = await em.findOne(User, { id: body.ownerId });
    if (!owner || owner.disabled) {
      throw DomainError.invalid('ownerId', 'ownerId does not name an active user');
    }
    const host = await em.findOne(ProxmoxHost, { id: body.hostId });
    if (!host) throw DomainError.invalid('hostId', 'hostId does not name a Proxmox host');
    const nodes = await this.upstream(host, () => this.liveNodes.of(host));
    if (!nodes.some((n) => n.name === body.node)) {
      throw DomainError.invalid('node', `node '${body.node}' is not a node of this host`);
    }
    const captured = await this.containerOf(host, body.node, body.vmid);
    const { application, operation } = await this.allocator.allocate({
      ownerId: owner.id,
      actorId: actor.principal.userId,
      hostId: host.id,
      node: body.node,
      vmid: body.vmid,
      name: body.name ?? captured.hostname,
      captured,
      exposePorts: body.exposePorts ?? [],
    });
    try {
      await this.queue.enqueue(operation);
    } catch (err) {
      this.logger.warn(
        { applicationId: application.id, operationId: operation.id },
        'adopt job not enqueued; reservation undone',
      );
      await this.applications.discard(application.id);
      throw err;
    }
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.ApplicationAdopt,
      resourceType: 'application',
      resourceId: application.id,
      ip: actor.ip,
    });
    return { application, operation };
  }

  /** The container's hostname and resources now, from the node itself (never the lagging cluster view). */
  private async containerOf(
    host: ProxmoxHost,
    node: string,
    vmid: number,
  ): Promise<CapturedConfig> {
    const connection = this.hosts.connectionFor(host);
    const ref = { node, vmid };
    let config: Record<string, string>;
    let cpus: number;
    try {
      config = await this.gateway.containerConfig(connection, ref);
      cpus = (await this.gateway.containerStatus(connection, ref)).cpus;
    } catch (err) {
      if (err instanceof ProxmoxError && err.kind === ProxmoxErrorKind.NotFound) {
        throw DomainError.invalid('vmid', `VMID ${vmid} is not a container on node '${node}'`);
      }
      throw new DomainError(ErrorCode.UpstreamFailed, this.hosts.reasonOf(err, host));
    }
    const captured = captureConfig(config, vmid, cpus);
    if (!captured) {
      throw DomainError.invalid(
        'vmid',
        "the container's hostname is not one RFC 1123 label (a-z, 0-9 and -, 1..63 characters)",
      );
    }
    return captured;
  }

  private async upstream<T>(host: ProxmoxHost, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw new DomainError(ErrorCode.UpstreamFailed, this.hosts.reasonOf(err, host));
    }
  }
}
