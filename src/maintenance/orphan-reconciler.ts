import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ApplicationStatus } from '../applications/application-status';
import {
  ACTIVE_OPERATION_STATUSES,
  OperationStatus,
  OperationType,
} from '../operations/operation.entity';
import { ForwardingRules } from '../ports/forwarding-rules';
import { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import { HostsService } from '../proxmox/hosts/hosts.service';
import { type HostInventory, HostInventoryReader } from './host-inventory';
import { OrphanGuests } from './orphan-guests';

export const GUEST_VANISHED = 'the container no longer exists on Proxmox';
export const HOST_UNREADABLE = "the host's guests or forwarding rules could not be listed";

// Bounds of one pass per host and kind; what is left waits for the next.
const ROW_BATCH = 200;
const RULE_BATCH = 200;

export interface SkippedHost {
  hostId: string;
  name: string;
  reason: string;
}

export interface OrphansReconciled {
  allocationsRemoved: number;
  rulesRemoved: number;
  containersDestroyed: number;
  snapshotsDeleted: number;
  guestsVanished: number;
  hostsSkipped: SkippedHost[];
}

/** What one pass found (and removed or marked) on one host it could list. */
export interface HostOrphans {
  host: string;
  allocation: number;
  rule: number;
  container: number;
  snapshot: number;
  vanished_guest: number;
}

export interface OrphanPass {
  summary: OrphansReconciled;
  hosts: HostOrphans[];
}

interface VanishCandidate {
  id: string;
  vmid: number;
  version: number;
}

const ACTIVE = ACTIVE_OPERATION_STATUSES.map((status) => `'${status}'`).join(', ');
const ACTIVE_OPERATION_OF = (alias: string) =>
  `exists (select 1 from operation o where o.application_id = ${alias}.id and o.status in (${ACTIVE}))`;

/**
 * Removes what outlived its application, host by host. A host is first read
 * whole (guests and every online node's rules); when that fails it is
 * skipped and nothing of it is changed, so an unreachable host never makes
 * live applications look orphaned.
 *
 * An allocation is orphaned when its application holds no VMID (released
 * after a failed deploy, so no container can ever use the port) and has no
 * active operation. A forwarding rule is orphaned when no allocation of its
 * host holds its public port and protocol (checked after the orphaned
 * allocations are removed).
 */
@Injectable()
export class OrphanReconciler {
  constructor(
    @InjectPinoLogger(OrphanReconciler.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly hosts: HostsService,
    private readonly inventories: HostInventoryReader,
    private readonly forwarding: ForwardingRules,
    private readonly guests: OrphanGuests,
  ) {}

  async reconcile(): Promise<OrphanPass> {
    const hosts: HostOrphans[] = [];
    const result: OrphansReconciled = {
      allocationsRemoved: 0,
      rulesRemoved: 0,
      containersDestroyed: 0,
      snapshotsDeleted: 0,
      guestsVanished: 0,
      hostsSkipped: [],
    };
    const all = await this.em.fork().find(ProxmoxHost, {}, { orderBy: { name: 'asc' } });
    for (const host of all) {
      // Read before the listing: an application changed after it is not judged on it.
      const since = new Date();
      const vanishCandidates = await this.vanishCandidates(host);
      let inventory: HostInventory;
      try {
        inventory = await this.inventories.read(host);
      } catch (err) {
        this.logger.warn(
          { hostId: host.id, err: { message: err instanceof Error ? err.message : 'unknown' } },
          'host skipped by the reconciler: it could not be listed',
        );
        result.hostsSkipped.push({ hostId: host.id, name: host.name, reason: HOST_UNREADABLE });
        continue;
      }
      const found: HostOrphans = {
        host: host.name,
        allocation: 0,
        rule: 0,
        container: 0,
        snapshot: 0,
        vanished_guest: 0,
      };
      hosts.push(found);
      try {
        found.allocation = await this.releaseFailedDeployments(host, inventory, since);
        found.allocation += await this.removeOrphanAllocations(host);
        found.rule = await this.removeOrphanRules(host, inventory);
        found.container = await this.guests.destroyOrphanContainers(host, inventory);
        found.snapshot = await this.guests.deleteStaleSnapshots(host, inventory);
        found.vanished_guest = await this.markVanished(inventory, vanishCandidates, since);
      } catch (err) {
        // The other hosts still get their pass; this one's next pass picks up where it stopped.
        this.logger.error({ hostId: host.id, err }, 'reconciling a host failed');
      }
      result.allocationsRemoved += found.allocation;
      result.rulesRemoved += found.rule;
      result.containersDestroyed += found.container;
      result.snapshotsDeleted += found.snapshot;
      result.guestsVanished += found.vanished_guest;
    }
    return { summary: result, hosts };
  }

  /**
   * A deployment or clone that failed for good keeps its VMID (and ports) when its cleanup
   * failed too, since the container might remain. Once the listing shows no guest at that
   * VMID, nothing can use them: the VMID is given back, and its ports with it as orphaned
   * allocations. An application that ran keeps its VMID (a restore brings its container back).
   */
  private async releaseFailedDeployments(
    host: ProxmoxHost,
    inventory: HostInventory,
    since: Date,
  ): Promise<number> {
    const conn = this.em.fork().getConnection();
    const candidates = await conn.execute<{ id: string; vmid: number }[]>(
      `select a.id, a.vmid from application a
       where a.host_id = ? and a.vmid is not null and a.status = ?
         and (select o.type || ':' || o.status from operation o where o.application_id = a.id
              order by o.created_at desc limit 1) in (?, ?)
       limit ${ROW_BATCH}`,
      [
        host.id,
        ApplicationStatus.Error,
        `${OperationType.Deploy}:${OperationStatus.Failed}`,
        `${OperationType.Clone}:${OperationStatus.Failed}`,
      ],
    );
    const listed = new Set(inventory.guests.map((g) => g.vmid));
    let released = 0;
    for (const app of candidates.filter((a) => !listed.has(a.vmid))) {
      // Unless an operation started since the listing: it may have made the container.
      const rows = await conn.execute<{ id: string }[]>(
        `update application a set vmid = null, version = a.version + 1, updated_at = now()
         where a.id = ? and a.vmid = ? and a.status = ?
           and not exists (select 1 from operation o where o.application_id = a.id
                           and (o.status in (${ACTIVE}) or o.created_at >= ?))
         returning a.id`,
        [app.id, app.vmid, ApplicationStatus.Error, since],
      );
      if (rows.length === 0) continue;
      released += 1;
      this.logger.warn(
        { applicationId: app.id, vmid: app.vmid },
        'released the VMID of a failed deployment whose cleanup had failed: no guest holds it',
      );
    }
    return released;
  }

  private async removeOrphanAllocations(host: ProxmoxHost): Promise<number> {
    const rows = await this.em
      .fork()
      .getConnection()
      .execute<{ port: number; protocol: string }[]>(
        `delete from port_allocation where id in (
         select pa.id from port_allocation pa join application a on a.id = pa.application_id
         where pa.host_id = ? and a.vmid is null and not ${ACTIVE_OPERATION_OF('a')}
         limit ${ROW_BATCH})
       returning port, protocol, application_id`,
        [host.id],
      );
    if (rows.length > 0) {
      this.logger.warn(
        { hostId: host.id, ports: rows },
        'removed port allocations of no container',
      );
    }
    return rows.length;
  }

  private async removeOrphanRules(host: ProxmoxHost, inventory: HostInventory): Promise<number> {
    // Read after the listing: a rule is programmed only once its allocation exists.
    const held = new Set(
      (
        await this.em
          .fork()
          .getConnection()
          .execute<{ port: number; protocol: string }[]>(
            'select port, protocol from port_allocation where host_id = ?',
            [host.id],
          )
      ).map((row) => `${row.port}/${row.protocol}`),
    );
    let removed = 0;
    for (const [node, rules] of inventory.rules) {
      const orphans = rules
        .filter((rule) => !held.has(`${rule.publicPort}/${rule.protocol}`))
        .slice(0, RULE_BATCH - removed);
      if (orphans.length === 0) continue;
      this.logger.warn(
        {
          hostId: host.id,
          node,
          rules: orphans.map((r) => ({
            port: r.publicPort,
            protocol: r.protocol,
            comment: r.comment,
          })),
        },
        'removing forwarding rules of no allocation',
      );
      try {
        removed += await this.forwarding.removeHandles(
          this.hosts.shellTargetFor(host, node),
          orphans.map((r) => r.handle),
        );
      } catch (err) {
        this.logger.warn(
          {
            hostId: host.id,
            node,
            err: { message: err instanceof Error ? err.message : 'unknown' },
          },
          'could not remove orphaned forwarding rules; the next pass tries again',
        );
      }
    }
    return removed;
  }

  private vanishCandidates(host: ProxmoxHost): Promise<VanishCandidate[]> {
    return this.em
      .fork()
      .getConnection()
      .execute<VanishCandidate[]>(
        `select a.id, a.vmid, a.version from application a
         where a.host_id = ? and a.vmid is not null and a.status in (?, ?)
           and not ${ACTIVE_OPERATION_OF('a')}`,
        [host.id, ApplicationStatus.Running, ApplicationStatus.Stopped],
      );
  }

  /**
   * Applications whose container the listing lacks turn to `error`, unless
   * they changed or got an operation since they were read: a restore or a
   * delete may have removed the container in between.
   */
  private async markVanished(
    inventory: HostInventory,
    candidates: readonly VanishCandidate[],
    since: Date,
  ): Promise<number> {
    const listed = new Set(inventory.guests.map((g) => g.vmid));
    let marked = 0;
    for (const app of candidates.filter((a) => !listed.has(a.vmid))) {
      const rows = await this.em
        .fork()
        .getConnection()
        .execute<{ id: string }[]>(
          `update application a set status = ?, last_error = ?, version = a.version + 1, updated_at = now()
         where a.id = ? and a.version = ? and a.status in (?, ?)
           and not exists (select 1 from operation o where o.application_id = a.id
                           and (o.status in (${ACTIVE}) or o.created_at >= ?))
         returning a.id`,
          [
            ApplicationStatus.Error,
            GUEST_VANISHED,
            app.id,
            app.version,
            ApplicationStatus.Running,
            ApplicationStatus.Stopped,
            since,
          ],
        );
      if (rows.length === 0) continue;
      marked += 1;
      this.logger.warn(
        { applicationId: app.id, vmid: app.vmid },
        'application marked error: its container no longer exists on Proxmox',
      );
    }
    return marked;
  }
}
