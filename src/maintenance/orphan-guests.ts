import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Application } from '../applications/application.entity';
import {
  hasOwnershipTag,
  markedApplication,
  operationOfSnapshot,
} from '../applications/deploy/container-ownership';
import { DeployTimings } from '../applications/deploy/deploy-timings';
import { ACTIVE_OPERATION_STATUSES, Operation } from '../operations/operation.entity';
import { ProxmoxError, ProxmoxErrorKind } from '../proxmox/gateway/proxmox-error';
import { ProxmoxGateway, type TaggedGuest } from '../proxmox/gateway/proxmox-gateway';
import type { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import type { HostInventory } from './host-inventory';

// Bounds of one pass per host; what is left waits for the next.
const CONTAINER_BATCH = 10;
const SNAPSHOT_SCAN_BATCH = 100;

const gone = (err: unknown) =>
  err instanceof ProxmoxError && err.kind === ProxmoxErrorKind.NotFound;
const message = (err: unknown) => (err instanceof Error ? err.message : 'unknown');

/**
 * Containers and snapshots Proximity made that nothing owns any more: a
 * container whose marks name an application that no longer exists, and a
 * temporary snapshot whose operation has ended. A guest without our marks is
 * never touched, nor one that is locked (its task still runs).
 */
@Injectable()
export class OrphanGuests {
  /** Where the snapshot scan of each host resumes, so that every container is seen in turn. */
  private readonly snapshotCursor = new Map<string, number>();

  constructor(
    @InjectPinoLogger(OrphanGuests.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
    private readonly timings: DeployTimings,
  ) {}

  /** Destroys (stopping first) our containers that name a missing application; how many. */
  async destroyOrphanContainers(host: ProxmoxHost, inventory: HostInventory): Promise<number> {
    const candidates = inventory.guests.filter(
      (g) => g.type === 'lxc' && g.lock === null && hasOwnershipTag(g.tags),
    );
    if (candidates.length === 0) return 0;
    const em = this.em.fork();
    const recorded = new Set(
      (
        await em.find(
          Application,
          { host: host.id, vmid: { $in: candidates.map((g) => g.vmid) } },
          { fields: ['vmid'] },
        )
      ).map((app) => app.vmid),
    );
    let destroyed = 0;
    for (const guest of candidates.filter((g) => !recorded.has(g.vmid))) {
      if (destroyed >= CONTAINER_BATCH) break;
      try {
        if (await this.destroyIfOrphan(host, inventory, guest)) destroyed += 1;
      } catch (err) {
        this.logger.warn(
          { hostId: host.id, node: guest.node, vmid: guest.vmid, err: { message: message(err) } },
          'could not destroy an orphaned container; the next pass tries again',
        );
      }
    }
    return destroyed;
  }

  private async destroyIfOrphan(
    host: ProxmoxHost,
    inventory: HostInventory,
    guest: TaggedGuest,
  ): Promise<boolean> {
    const ref = { node: guest.node, vmid: guest.vmid };
    const applicationId = markedApplication(
      await this.gateway.containerConfig(inventory.connection, ref),
    );
    if (applicationId === null) return false;
    // No application row, so no operation either (operations belong to their application).
    if ((await this.em.fork().count(Application, { id: applicationId })) > 0) return false;
    this.logger.warn(
      { hostId: host.id, node: guest.node, vmid: guest.vmid, applicationId },
      'destroying a container of an application that no longer exists',
    );
    const wait = { deadlineMs: this.timings.taskDeadlineMs, pollMs: this.timings.pollMs };
    try {
      const status = await this.gateway.containerStatus(inventory.connection, ref);
      if (status.status === 'running') {
        const upid = await this.gateway.stopContainer(inventory.connection, ref);
        await this.gateway.waitForTask(inventory.connection, upid, wait);
      }
      const upid = await this.gateway.destroyContainer(inventory.connection, ref);
      await this.gateway.waitForTask(inventory.connection, upid, wait);
    } catch (err) {
      // Destroyed meanwhile (by whoever else cleans): the outcome wanted.
      if (!gone(err)) throw err;
    }
    return true;
  }

  /**
   * Deletes the temporary snapshots of our containers whose operation is not
   * queued or running (finished, or deleted with its application); how many.
   * A locked container keeps them until a later pass.
   */
  async deleteStaleSnapshots(host: ProxmoxHost, inventory: HostInventory): Promise<number> {
    const ours = inventory.guests
      .filter((g) => g.type === 'lxc' && hasOwnershipTag(g.tags))
      .sort((a, b) => a.vmid - b.vmid);
    const after = this.snapshotCursor.get(host.id) ?? 0;
    const next = ours.filter((g) => g.vmid > after);
    const scan = (next.length > 0 ? next : ours).slice(0, SNAPSHOT_SCAN_BATCH);
    this.snapshotCursor.set(host.id, scan.at(-1)?.vmid ?? 0);
    let deleted = 0;
    for (const guest of scan) {
      if (guest.lock !== null) continue;
      try {
        deleted += await this.deleteStaleSnapshotsOf(inventory, guest);
      } catch (err) {
        this.logger.warn(
          { hostId: host.id, node: guest.node, vmid: guest.vmid, err: { message: message(err) } },
          'could not delete a temporary snapshot; the next pass tries again',
        );
      }
    }
    return deleted;
  }

  private async deleteStaleSnapshotsOf(
    inventory: HostInventory,
    guest: TaggedGuest,
  ): Promise<number> {
    const ref = { node: guest.node, vmid: guest.vmid };
    const temporary = (await this.gateway.listSnapshots(inventory.connection, ref)).flatMap(
      (name) => {
        const operationId = operationOfSnapshot(name);
        return operationId ? [{ name, operationId }] : [];
      },
    );
    if (temporary.length === 0) return 0;
    const running = new Set(
      (
        await this.em.fork().find(
          Operation,
          {
            id: { $in: temporary.map((s) => s.operationId) },
            status: { $in: [...ACTIVE_OPERATION_STATUSES] },
          },
          { fields: ['id'] },
        )
      ).map((op) => op.id),
    );
    let deleted = 0;
    for (const snapshot of temporary.filter((s) => !running.has(s.operationId))) {
      this.logger.warn(
        { node: guest.node, vmid: guest.vmid, snapshot: snapshot.name },
        'deleting a temporary snapshot whose operation has ended',
      );
      try {
        const upid = await this.gateway.deleteSnapshot(inventory.connection, ref, snapshot.name);
        await this.gateway.waitForTask(inventory.connection, upid, {
          deadlineMs: this.timings.taskDeadlineMs,
          pollMs: this.timings.pollMs,
        });
      } catch (err) {
        if (!gone(err)) throw err;
      }
      deleted += 1;
    }
    return deleted;
  }
}
