import {
  EntityManager,
  FlushMode,
  ForeignKeyConstraintViolationException,
  LockMode,
  UniqueConstraintViolationException,
} from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AuditAction } from '../../audit/audit-actions';
import { AuditService } from '../../audit/audit.service';
import { type Actor, actorId } from '../../common/auth/actor';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import { pageOf, type Page, type PaginationQuery } from '../../common/pagination/pagination';
import { AppConfig } from '../../config/app-config';
import { Lock, withLock } from '../../database/locks';
import type { ProxmoxConnection } from '../gateway/proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from '../gateway/proxmox-error';
import { ProxmoxGateway } from '../gateway/proxmox-gateway';
import { isNodeName } from '../node-name';
import type { ShellTarget } from '../shell/node-shell';
import { HostCredentials, type SealedHostChanges } from './host-credentials';
import { hostProblems } from './host-rules';
import { type CreateHostBody, HOST_DEFAULTS, type UpdateHostBody } from './hosts.dto';
import { ProxmoxHost } from './proxmox-host.entity';
import { NodeStatus, ProxmoxNode } from './proxmox-node.entity';
import { firstFreeVmidBlock, type VmidRange } from './vmid-blocks';

/** Applies a PATCH: a new credential of one kind replaces the other kind. */
function applyChanges(host: ProxmoxHost, body: SealedHostChanges): void {
  if (body.tokenId !== undefined || body.tokenSecret !== undefined) {
    host.username = null;
    host.password = null;
  }
  if (body.username !== undefined || body.password !== undefined) {
    host.tokenId = null;
    host.tokenSecret = null;
  }
  if (body.tlsFingerprint !== undefined || body.caCert !== undefined) host.tlsInsecure = false;
  if (body.tlsFingerprint !== undefined) host.caCert = null;
  if (body.caCert !== undefined) host.tlsFingerprint = null;
  if (body.tlsInsecure === true) {
    host.tlsFingerprint = null;
    host.caCert = null;
  }
  if (body.sshHostKeyFingerprint !== undefined) host.sshInsecure = false;
  if (body.sshInsecure === true) host.sshHostKeyFingerprint = null;
  const { tlsFingerprint, ...rest } = body;
  // Only keys the caller sent: an absent key must never overwrite a stored value.
  Object.assign(host, Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)));
  if (tlsFingerprint !== undefined) host.tlsFingerprint = tlsFingerprint.toUpperCase();
}

/**
 * Fails closed: a row with neither pin nor the explicit opt-out (which the API
 * and the database refuse, but a row may be written around both) is never
 * connected to without verification.
 */
function tlsPolicyOf(host: ProxmoxHost): ProxmoxConnection['tls'] {
  if (host.tlsFingerprint) return { fingerprint: host.tlsFingerprint };
  if (host.caCert) return { caCert: host.caCert };
  if (host.tlsInsecure) return { insecure: true };
  throw new ProxmoxError(ProxmoxErrorKind.TlsNotPinned, `host ${host.id} has no TLS pin`);
}

export const HOST_HAS_APPLICATIONS = 'applications live on this host; delete them first';

@Injectable()
export class HostsService {
  constructor(
    @InjectPinoLogger(HostsService.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
    private readonly config: AppConfig,
    private readonly audit: AuditService,
    private readonly credentials: HostCredentials,
  ) {}

  async list(query: PaginationQuery): Promise<Page<ProxmoxHost>> {
    const [items, total] = await this.em.findAndCount(
      ProxmoxHost,
      {},
      { orderBy: { name: 'asc', id: 'asc' }, limit: query.perPage, offset: query.offset },
    );
    return pageOf(items, total, query);
  }

  async get(id: string): Promise<ProxmoxHost> {
    const host = await this.em.findOne(ProxmoxHost, { id });
    if (!host) throw DomainError.notFound('Proxmox host');
    return host;
  }

  async create(body: CreateHostBody, actor: Actor): Promise<ProxmoxHost> {
    // Not em.create(): the row is persisted only inside save()'s locked transaction.
    const host = Object.assign(new ProxmoxHost(), HOST_DEFAULTS, {
      name: body.name,
      host: body.host,
    });
    applyChanges(host, this.credentials.seal(body));
    const pickVmidRange = body.vmidMin === undefined && body.vmidMax === undefined;
    const saved = await this.save(host, true, pickVmidRange);
    await this.record(AuditAction.HostCreate, saved.id, actor);
    return saved;
  }

  async update(id: string, body: UpdateHostBody, actor: Actor): Promise<ProxmoxHost> {
    const host = await this.get(id);
    applyChanges(host, this.credentials.seal(body));
    const saved = await this.save(host, false);
    await this.record(AuditAction.HostUpdate, saved.id, actor);
    return saved;
  }

  async delete(id: string, actor: Actor): Promise<void> {
    const host = await this.get(id);
    try {
      await this.em.remove(host).flush();
    } catch (err) {
      // Applications and their ports reference the host: the foreign keys decide, race-free.
      if (err instanceof ForeignKeyConstraintViolationException) {
        this.em.clear();
        throw DomainError.conflict(HOST_HAS_APPLICATIONS);
      }
      throw err;
    }
    await this.record(AuditAction.HostDelete, id, actor);
  }

  /** Refreshes the node cache; nodes gone from the cluster are marked offline, never deleted. */
  async sync(id: string, actor: Actor): Promise<number> {
    const host = await this.get(id);
    let reported;
    let addresses: Map<string, string>;
    try {
      const connection = this.connectionFor(host);
      [reported, addresses] = await Promise.all([
        this.gateway.listNodes(connection),
        this.gateway.nodeAddresses(connection),
      ]);
    } catch (err) {
      // A credential that cannot be decrypted is our problem to report (409), not the upstream's.
      if (err instanceof DomainError) throw err;
      throw new DomainError(ErrorCode.UpstreamFailed, `Sync failed: ${this.reasonOf(err, host)}`);
    }
    const nodes = reported.filter((node) => {
      if (isNodeName(node.name)) return true;
      this.logger.warn(
        { hostId: host.id, node: String(JSON.stringify(node.name)).slice(0, 100) },
        'Proxmox reported a node whose name is not a valid node name; skipped',
      );
      return false;
    });
    await this.em.transactional(async (em) => {
      const known = await em.find(ProxmoxNode, { host });
      const now = new Date();
      for (const reported of nodes) {
        const node =
          known.find((k) => k.name === reported.name) ??
          em.create(ProxmoxNode, { host, name: reported.name });
        node.status = reported.online ? NodeStatus.Online : NodeStatus.Offline;
        node.address = addresses.get(reported.name) ?? null;
        node.cpus = reported.cpus;
        node.memoryTotal = reported.memoryTotal;
        node.memoryFree = reported.memoryFree;
        node.diskFree = reported.diskFree;
        node.syncedAt = now;
      }
      for (const gone of known.filter((k) => !nodes.some((n) => n.name === k.name))) {
        gone.status = NodeStatus.Offline;
      }
    });
    await this.record(AuditAction.HostSync, id, actor);
    return nodes.length;
  }

  async nodes(hostId: string | undefined, query: PaginationQuery): Promise<Page<ProxmoxNode>> {
    const [items, total] = await this.em.findAndCount(ProxmoxNode, hostId ? { host: hostId } : {}, {
      populate: ['host'],
      orderBy: { host: { name: 'asc' }, name: 'asc' },
      limit: query.perPage,
      offset: query.offset,
    });
    return pageOf(items, total, query);
  }

  /** How to reach a host's API; its secrets are decrypted here, for this call only. */
  connectionFor(host: ProxmoxHost): ProxmoxConnection {
    const tokenSecret = this.credentials.open(host, 'tokenSecret');
    const auth =
      host.tokenId !== null && tokenSecret !== null
        ? { tokenId: host.tokenId, tokenSecret }
        : {
            username: host.username ?? '',
            password: this.credentials.open(host, 'password') ?? '',
          };
    return {
      host: host.host,
      port: host.port,
      auth,
      tls: tlsPolicyOf(host),
      timeoutMs: this.config.proxmox.callTimeoutMs,
    };
  }

  /**
   * How to reach a node over SSH. The host's SSH endpoint is the entry node;
   * another node of the cluster is reached by a hop from it (cluster nodes
   * trust each other's root key). Resolved in the worker, never put in job data.
   */
  shellTargetFor(host: ProxmoxHost, node?: string): ShellTarget {
    const privateKey = this.credentials.open(host, 'sshPrivateKey');
    const endpoint = {
      host: host.sshHost ?? host.host,
      port: host.sshPort,
      username: host.sshUser,
      auth:
        privateKey !== null
          ? { privateKey }
          : { password: this.credentials.open(host, 'sshPassword') ?? '' },
      // No pin and no explicit opt-out cannot be saved; should one appear, an empty pin is refused.
      hostKey: host.sshInsecure
        ? { insecure: true as const }
        : { fingerprint: host.sshHostKeyFingerprint ?? '' },
      connectTimeoutMs: this.config.proxmox.callTimeoutMs,
    };
    return node ? { ...endpoint, via: 'hop', node } : endpoint;
  }

  /** Our wording of a failed Proxmox call for the caller; the upstream text goes to the log only. */
  reasonOf(err: unknown, host: ProxmoxHost): string {
    // Our own wording already (e.g. a credential that does not decrypt).
    if (err instanceof DomainError) return err.message;
    if (err instanceof ProxmoxError) {
      // The upstream text stays in our log; the caller gets our wording.
      this.logger.warn(
        { hostId: host.id, kind: err.kind, upstream: err.upstream },
        'Proxmox call failed',
      );
      return err.message;
    }
    this.logger.error({ hostId: host.id, err }, 'Proxmox call failed unexpectedly');
    return 'unexpected error while contacting Proxmox';
  }

  /**
   * Validates the whole host, then writes it while holding the host-ranges lock, so
   * two concurrent writes cannot both pass the VMID-overlap check (nor both
   * pick the same free VMID block).
   */
  private async save(
    host: ProxmoxHost,
    isNew: boolean,
    pickVmidRange = false,
  ): Promise<ProxmoxHost> {
    const problems = hostProblems(host);
    if (problems.length > 0) {
      this.em.clear();
      throw DomainError.invalidFields(problems);
    }
    try {
      await withLock(Lock.HostRanges, this.em, async (em) => {
        if (pickVmidRange) {
          const block = firstFreeVmidBlock(
            await em.execute<VmidRange[]>(
              'select vmid_min as "vmidMin", vmid_max as "vmidMax" from "proxmox_host"',
            ),
          );
          if (!block) throw DomainError.invalid('vmidMin', 'no free block of VMIDs is left');
          Object.assign(host, block);
        }
        const overlapping = await em.findOne(
          ProxmoxHost,
          {
            id: { $ne: host.id },
            vmidMin: { $lte: host.vmidMax },
            vmidMax: { $gte: host.vmidMin },
          },
          // Not flushed first: the database would refuse the changed row (exclusion
          // constraint) before this check could name the host it overlaps.
          { flushMode: FlushMode.COMMIT },
        );
        if (overlapping) {
          throw DomainError.invalid(
            'vmidMin',
            `VMID range overlaps the range of host '${overlapping.name}'`,
          );
        }
        if (host.isDefault) {
          await em.nativeUpdate(
            ProxmoxHost,
            { id: { $ne: host.id }, isDefault: true },
            { isDefault: false },
          );
        }
        if (isNew) em.persist(host);
        else await em.lock(host, LockMode.PESSIMISTIC_WRITE);
      });
    } catch (err) {
      this.em.clear();
      if (err instanceof UniqueConstraintViolationException) {
        throw DomainError.conflict(`a host named '${host.name}' exists`);
      }
      throw err;
    }
    return host;
  }

  private record(action: string, hostId: string, actor: Actor): Promise<void> {
    return this.audit.record({
      actorId: actorId(actor),
      action,
      resourceType: 'proxmox_host',
      resourceId: hostId,
      ip: actor.ip,
    });
  }
}
