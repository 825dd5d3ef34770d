import type { Client } from 'pg';
import { operationOfSnapshot } from '../../src/applications/deploy/container-ownership';
import type { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';

export type SimState = Awaited<ReturnType<SimulatorFixture['state']>>;

/** One registered host and what its simulator holds at the end. */
export interface HostSide {
  hostId: string;
  state: SimState;
}

/** What the database and the simulators say at the end; every count but `statuses` should be 0. */
export interface EndState {
  statuses: Record<string, number>;
  /** Applications in a state other than running, stopped or error. */
  unsettled: number;
  /** Applications holding a VMID whose container does not exist. */
  leakedVmids: number;
  /** Running or stopped applications whose container is in the other state. */
  statusMismatches: number;
  /** Containers that no application row holds. */
  leakedContainers: number;
  /** Temporary snapshots (named after an operation) whose operation has ended. */
  leakedSnapshots: number;
  /** Forwarding rules without a port allocation. */
  leakedRules: number;
  /** Port allocations of an application without a container. */
  leakedPorts: number;
  /** Running or stopped applications' allocations that have no forwarding rule. */
  missingRules: number;
  /** Backup archives no backup row names. */
  leakedBackups: number;
  attemptsOverMax: number;
  openOperations: number;
  openPastDeadline: number;
}

interface AppRow {
  id: string;
  host_id: string;
  vmid: number | null;
  status: string;
}

const SETTLED = new Set(['running', 'stopped', 'error']);

/**
 * Compares the database with the simulators' state. The soak creates no
 * guest behind Proximity's back, so every container must belong to an
 * application row, with the reconciler's own rule for temporary snapshots.
 */
export async function readEndState(
  db: Client,
  hosts: HostSide[],
  deadlineSeconds: number,
): Promise<EndState> {
  const apps = (await db.query<AppRow>('select id, host_id, vmid, status from application')).rows;
  const ports = (
    await db.query<{ host_id: string; port: number; protocol: string; vmid: number | null }>(
      `select p.host_id, p.port, p.protocol::text as protocol, a.vmid
       from port_allocation p join application a on a.id = p.application_id`,
    )
  ).rows;
  const volids = new Set(
    (
      await db.query<{ volid: string }>('select volid from backup where volid is not null')
    ).rows.map((r) => r.volid),
  );
  const ops = (
    await db.query<{ over: string; open: string; late: string }>(
      `select count(*) filter (where attempts > max_attempts) as over,
              count(*) filter (where status in ('queued', 'running')) as open,
              count(*) filter (where status in ('queued', 'running')
                               and created_at < now() - make_interval(secs => $1)) as late
       from operation`,
      [deadlineSeconds],
    )
  ).rows[0];
  const open = new Set(
    (
      await db.query<{ id: string }>(
        `select id from operation where status in ('queued', 'running')`,
      )
    ).rows.map((r) => r.id),
  );

  const statuses: Record<string, number> = {};
  for (const app of apps) statuses[app.status] = (statuses[app.status] ?? 0) + 1;
  const end: EndState = {
    statuses,
    unsettled: apps.filter((a) => !SETTLED.has(a.status)).length,
    leakedVmids: 0,
    statusMismatches: 0,
    leakedContainers: 0,
    leakedSnapshots: 0,
    leakedRules: 0,
    leakedPorts: ports.filter((p) => p.vmid === null).length,
    missingRules: 0,
    leakedBackups: 0,
    attemptsOverMax: Number(ops.over),
    openOperations: Number(ops.open),
    openPastDeadline: Number(ops.late),
  };
  for (const { hostId, state } of hosts) {
    const containers = new Map(state.containers.map((c) => [c.vmid, c]));
    const held = apps.filter((a) => a.host_id === hostId && a.vmid !== null);
    const heldVmids = new Set(held.map((a) => a.vmid));
    for (const app of held) {
      const ct = containers.get(app.vmid!);
      if (!ct) end.leakedVmids += 1;
      else if ((app.status === 'running' || app.status === 'stopped') && ct.status !== app.status)
        end.statusMismatches += 1;
    }
    end.leakedContainers += state.containers.filter((c) => !heldVmids.has(c.vmid)).length;
    end.leakedSnapshots += state.containers
      .flatMap((c) => c.snapshots)
      .filter((name) => {
        const operationId = operationOfSnapshot(name);
        return operationId !== null && !open.has(operationId);
      }).length;
    const hostPorts = ports.filter((p) => p.host_id === hostId);
    const allocated = new Set(hostPorts.map((p) => `${p.protocol}/${p.port}`));
    const forwarded = new Set(state.forwards.map((f) => `${f.protocol}/${f.publicPort}`));
    end.leakedRules += [...forwarded].filter((key) => !allocated.has(key)).length;
    end.missingRules += hostPorts.filter(
      (p) =>
        p.vmid !== null &&
        apps.some((a) => a.vmid === p.vmid && a.host_id === hostId && a.status !== 'error') &&
        !forwarded.has(`${p.protocol}/${p.port}`),
    ).length;
    end.leakedBackups += state.backups.filter((volid) => !volids.has(volid)).length;
  }
  return end;
}
