import { EntityManager, LockMode, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import type { CatalogPort } from '../../catalog/catalog-app';
import { DomainError } from '../../common/errors/domain-error';
import { AppConfig } from '../../config/app-config';
import { Lock, withLock } from '../../database/locks';
import {
  ACTIVE_OPERATION_STATUSES,
  Operation,
  OperationType,
} from '../../operations/operation.entity';
import { PortAllocation } from '../../ports/port-allocation.entity';
import { pickPorts, type HeldPort } from '../../ports/port-pool';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { Settings, SETTINGS_ROW_ID } from '../../settings/settings.entity';
import { Application } from '../application.entity';
import { ApplicationAction, statusAfter } from '../application-state-machine';
import { ApplicationStatus } from '../application-status';
import { pickVmid } from './vmid-picker';

export interface Resources {
  cores: number;
  memoryMb: number;
  diskGb: number;
  swapMb: number;
}

/** A deploy request already validated, defaulted and placed on a node. */
export interface AllocationRequest {
  ownerId: string;
  /** Who asked; null for the system. */
  actorId: string | null;
  hostId: string;
  node: string;
  catalogId: string;
  name: string;
  hostname: string;
  resources: Resources;
  /** Variables that are not secret, stored in the clear. */
  environment: Record<string, string>;
  /** Secret variables, stored sealed. */
  secretEnvironment: Record<string, string>;
  /** The catalog app's ports; each gets a public port of the host's pool. */
  ports: readonly CatalogPort[];
  rootPassword: string;
  /** VMIDs the cluster reports as used (live data, read before the transaction). */
  clusterVmids: readonly number[];
  idempotencyKey?: string;
  /**
   * For a clone: the application it copies. Its row is locked and its status
   * checked in the same transaction, so a lifecycle action or removal of it
   * cannot slip in between (see LifecycleRequests).
   */
  cloneOf?: string;
}

export interface Allocation {
  application: Application;
  operation: Operation;
}

const HOSTNAME_INDEX = 'application_hostname_live_unique';
const IDEMPOTENCY_INDEX = 'operation_idempotency_key_unique';

/**
 * Reserves what a deployment needs, in one transaction: the owner's quota,
 * the lowest free VMID of the host's range, the lowest free public ports, the
 * application row, its port allocations and its queued deploy operation.
 * The host row lock serialises the picks; the unique constraints back them,
 * and decide the hostname.
 */
@Injectable()
export class ApplicationAllocator {
  constructor(
    private readonly em: EntityManager,
    private readonly config: AppConfig,
  ) {}

  async allocate(req: AllocationRequest): Promise<Allocation> {
    const keyring = this.config.keyring;
    const rootPassword = keyring.encrypt(req.rootPassword);
    const secretKeys = Object.keys(req.secretEnvironment).sort();
    const secretEnvironment =
      secretKeys.length > 0 ? keyring.encrypt(JSON.stringify(req.secretEnvironment)) : null;
    try {
      return await withLock(Lock.ApplicationsOf(req.ownerId), this.em.fork(), async (em) => {
        await this.assertQuota(em, req.ownerId);
        const source = req.cloneOf ? await this.lockCloneSource(em, req.cloneOf) : null;
        const host = await em.findOne(
          ProxmoxHost,
          { id: req.hostId },
          { lockMode: LockMode.PESSIMISTIC_WRITE },
        );
        if (!host) throw DomainError.invalid('hostId', 'hostId does not name a Proxmox host');
        const vmid = pickVmid(host, [...(await this.vmidsInUse(em, host)), ...req.clusterVmids]);
        if (vmid === null) throw DomainError.unavailable('no free VMID is left on this host');
        const publicPorts = pickPorts(
          { min: host.portMin, max: host.portMax },
          await this.portsInUse(em, host),
          req.ports.map((p) => p.protocol),
        );
        if (publicPorts === null) {
          throw DomainError.unavailable('no free public port is left on this host');
        }
        const application = em.create(Application, {
          owner: req.ownerId,
          host,
          node: req.node,
          vmid,
          hostname: req.hostname,
          name: req.name,
          catalogId: req.catalogId,
          ...req.resources,
          environment: { ...req.environment },
          secretEnvironment,
          secretEnvironmentKeys: secretKeys,
          rootPassword,
          status: source ? ApplicationStatus.Cloning : ApplicationStatus.Deploying,
          clonedFrom: source,
        });
        req.ports.forEach((port, i) =>
          em.create(PortAllocation, {
            host,
            port: publicPorts[i],
            protocol: port.protocol,
            application,
            name: port.name,
            containerPort: port.containerPort,
          }),
        );
        const operation = em.create(Operation, {
          type: source ? OperationType.Clone : OperationType.Deploy,
          application,
          actorId: req.actorId,
          idempotencyKey: req.idempotencyKey ?? null,
        });
        await em.flush();
        return { application, operation };
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) {
        const constraint = (err as { constraint?: string }).constraint;
        if (constraint === HOSTNAME_INDEX) {
          throw DomainError.conflict(`hostname '${req.hostname}' is taken`);
        }
        if (constraint === IDEMPOTENCY_INDEX) {
          throw DomainError.conflict('this idempotency key has been used already');
        }
      }
      throw err;
    }
  }

  /**
   * A new VMID for an application whose VMID turned out to hold a guest that
   * is not its own (created outside Proximity after the pick): picked under
   * the host row lock as at allocation, skipping the cluster's guests.
   */
  async reassignVmid(applicationId: string, clusterVmids: readonly number[]): Promise<number> {
    return this.em.fork().transactional(async (em) => {
      const app = await em.findOneOrFail(Application, { id: applicationId });
      const host = await em.findOneOrFail(
        ProxmoxHost,
        { id: app.host.id },
        { lockMode: LockMode.PESSIMISTIC_WRITE },
      );
      // The conflicting VMID is still the application's own row, so it is skipped too.
      const vmid = pickVmid(host, [...(await this.vmidsInUse(em, host)), ...clusterVmids]);
      if (vmid === null) throw DomainError.unavailable('no free VMID is left on this host');
      app.vmid = vmid;
      await em.flush();
      return vmid;
    });
  }

  /**
   * Gives back the VMID and public ports of an application whose container is
   * gone (a deploy that finally failed); the row stays to show what happened.
   */
  async release(applicationId: string): Promise<void> {
    await this.em.fork().transactional(async (em) => {
      await em.nativeDelete(PortAllocation, { application: applicationId });
      await em.nativeUpdate(Application, { id: applicationId }, { vmid: null });
    });
  }

  /**
   * Undoes an allocation whose job could not be enqueued: the application,
   * its ports and its operation are removed as if never requested.
   */
  async discard(applicationId: string): Promise<void> {
    // The foreign keys of allocations, operations and logs cascade.
    await this.em.fork().nativeDelete(Application, { id: applicationId });
  }

  private async lockCloneSource(em: EntityManager, id: string): Promise<Application> {
    const source = await em.findOneOrFail(
      Application,
      { id },
      { lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    statusAfter(source, ApplicationAction.Clone);
    // A backup keeps the source's status, so only its operation shows it: a snapshot for the
    // copy would meet vzdump's lock. Backups start under this same row lock (startOperation).
    const busy = await em.findOne(Operation, {
      application: source,
      status: { $in: [...ACTIVE_OPERATION_STATUSES] },
    });
    if (busy) {
      throw DomainError.conflict(
        `application '${source.hostname}' has a ${busy.type} under way; clone it when that has finished`,
      );
    }
    return source;
  }

  private async assertQuota(em: EntityManager, ownerId: string): Promise<void> {
    const settings = await em.findOneOrFail(Settings, { id: SETTINGS_ROW_ID });
    const limit = settings.limits.maxAppsPerUser;
    if ((await em.count(Application, { owner: ownerId })) >= limit) {
      throw DomainError.conflict(`the limit of ${limit} applications per user is reached`);
    }
  }

  private async vmidsInUse(em: EntityManager, host: ProxmoxHost): Promise<number[]> {
    const rows = await em.execute<{ vmid: number }[]>(
      'select vmid from application where host_id = ? and vmid is not null',
      [host.id],
    );
    return rows.map((row) => row.vmid);
  }

  private portsInUse(em: EntityManager, host: ProxmoxHost): Promise<HeldPort[]> {
    return em.execute<HeldPort[]>('select port, protocol from port_allocation where host_id = ?', [
      host.id,
    ]);
  }
}
