import {
  checkLock,
  configPath,
  loadContainer,
  lockMessage,
  withConfigLock,
} from '../../pve/container-access';
import { startFromWorker } from '../../pve/container-start';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { Container, LockName } from '../../state/container';
import { GuestSystem } from '../../guest/guest-system';
import { noPendingChanges, typedConfig } from '../../state/container-config';
import { TaskFailure } from '../../tasks/task-manager';
import type { ApiRequest } from '../api-request';
import { Router } from '../router';

/**
 * A snapshot worker's prepare step (__snapshot_prepare, or rollback's first
 * lock_config pass), run as the worker holds the config file lock: at once when
 * it is free, that is before the request is answered. Its refusal ends the
 * task; otherwise the config lock is set and held until the task ends.
 */
class SnapshotPreparation {
  container: Container | null = null;

  constructor(
    private readonly sim: Simulation,
    private readonly node: string,
    private readonly vmid: number,
    private readonly lock: LockName,
    private readonly check: (container: Container) => string | null,
  ) {}

  /** The task's precheck: the refusal, or null with the lock set. */
  run(): string | null {
    const container = this.sim.cluster.containerOn(this.node, this.vmid);
    if (!container)
      return `Configuration file '${configPath(this.node, this.vmid)}' does not exist`;
    const error = this.check(container);
    if (error) return error;
    container.lock = this.lock;
    this.container = container;
    this.sim.changed();
    return null;
  }

  /** The container, once prepared (the worker only runs then). */
  prepared(): Container {
    if (!this.container) throw new TaskFailure('snapshot preparation did not run');
    return this.container;
  }

  /** Clears the lock this preparation set, if it set one and still holds it. */
  release(): void {
    if (this.container && this.container.lock === this.lock) this.container.lock = null;
    this.sim.changed();
  }
}

/**
 * pve-common's AbstractConfig::snapshot_delete skips check_lock only when
 * `force` retries a delete that left its own `snapshot-delete` lock behind;
 * any other lock (a running backup, say) still refuses, and is kept.
 */
function retriesFailedDelete(container: Container, force: boolean): boolean {
  return force && container.lock === 'snapshot-delete';
}

export function registerSnapshotRoutes(router: Router, sim: Simulation): void {
  const { cluster } = sim;
  const ids = (req: ApiRequest): { node: string; vmid: number } => ({
    node: req.params.required('node'),
    vmid: Number(req.params.required('vmid')),
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/snapshot', (req) => {
    const { node, vmid } = ids(req);
    const container = loadContainer(cluster, node, vmid);
    const snapshots = sim.hashOrder.sort(container.snapshots, (snapshot) => snapshot.name);
    const list: Array<Record<string, unknown>> = snapshots.map((snapshot) => ({
      name: snapshot.name,
      snaptime: snapshot.snaptime,
      description: snapshot.description,
      ...(snapshot.parent ? { parent: snapshot.parent } : {}),
    }));
    list.push({
      name: 'current',
      digest: container.digest(),
      running: container.status === 'running' ? 1 : 0,
      description: 'You are here!',
      ...(container.parent ? { parent: container.parent } : {}),
    });
    return list;
  });

  router.add('POST', '/nodes/{node}/lxc/{vmid}/snapshot', (req) => {
    const { node, vmid } = ids(req);
    const snapname = req.params.required('snapname');
    if (snapname === 'current')
      throw PveError.die("unable to use snapshot name 'current' (reserved name)");
    if (snapname === 'vzdump')
      throw PveError.die("unable to use snapshot name 'vzdump' (reserved name)");
    const description = req.params.str('description') ?? '';
    const preparation = new SnapshotPreparation(sim, node, vmid, 'snapshot', (ct) => {
      if (ct.isTemplate()) return "you can't take a snapshot if it's a template";
      const locked = lockMessage(ct);
      if (locked) return locked;
      if (ct.snapshots.some((s) => s.name === snapname))
        return `snapshot name '${snapname}' already used`;
      if (!ct.config.rootfs?.startsWith('local-lvm:')) return 'snapshot feature is not available';
      return null;
    });
    return sim.tasks.spawn({
      node,
      type: 'vzsnapshot',
      id: String(vmid),
      user: req.principal.userid,
      injectedFailure: req.failTask,
      configLock: { vmid, holdWhileRunning: false },
      precheck: () => preparation.run(),
      run: (ctx) => {
        const container = preparation.prepared();
        if (container.status === 'running') ctx.log('freezing container for snapshot');
        ctx.log(`  Logical volume "snap_vm-${vmid}-disk-0_${snapname}" created.`);
        container.snapshots.push({
          name: snapname,
          description,
          snaptime: Math.floor(sim.now() / 1000),
          parent: container.parent,
          config: { ...container.config },
          guest: container.guest.toJSON(),
        });
        container.parent = snapname;
        preparation.release();
      },
      onFailure: () => preparation.release(),
    });
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}', () => [
    { cmd: 'rollback' },
    { cmd: 'config' },
  ]);

  router.add('DELETE', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}', (req) => {
    const { node, vmid } = ids(req);
    const snapname = req.params.required('snapname');
    const force = req.params.bool('force');
    const preparation = new SnapshotPreparation(sim, node, vmid, 'snapshot-delete', (ct) => {
      if (!ct.snapshots.some((s) => s.name === snapname))
        return `snapshot '${snapname}' does not exist`;
      if (ct.isTemplate()) return "you can't delete a snapshot if vm is a template";
      return retriesFailedDelete(ct, force) ? null : lockMessage(ct);
    });
    return sim.tasks.spawn({
      node,
      type: 'vzdelsnapshot',
      id: String(vmid),
      user: req.principal.userid,
      injectedFailure: req.failTask,
      configLock: { vmid, holdWhileRunning: false },
      precheck: () => preparation.run(),
      run: (ctx) => {
        const container = preparation.prepared();
        const removed = container.snapshots.find((s) => s.name === snapname);
        container.snapshots = container.snapshots.filter((s) => s.name !== snapname);
        for (const snapshot of container.snapshots)
          if (snapshot.parent === snapname) snapshot.parent = removed?.parent ?? null;
        if (container.parent === snapname) container.parent = removed?.parent ?? null;
        ctx.log(`  Logical volume "snap_vm-${vmid}-disk-0_${snapname}" successfully removed.`);
        preparation.release();
      },
      onFailure: () => preparation.release(),
    });
  });

  router.add('POST', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback', (req) => {
    const { node, vmid } = ids(req);
    const snapname = req.params.required('snapname');
    const start = req.params.bool('start');
    const preparation = new SnapshotPreparation(sim, node, vmid, 'rollback', (ct) => {
      if (!ct.snapshots.some((s) => s.name === snapname))
        return `snapshot '${snapname}' does not exist`;
      if (ct.isTemplate()) return "you can't rollback if vm is a template";
      return lockMessage(ct);
    });
    return sim.tasks.spawn({
      node,
      type: 'vzrollback',
      id: String(vmid),
      user: req.principal.userid,
      injectedFailure: req.failTask,
      configLock: { vmid, holdWhileRunning: false },
      precheck: () => preparation.run(),
      run: async (ctx) => {
        const container = preparation.prepared();
        const snapshot = container.snapshots.find((s) => s.name === snapname);
        if (!snapshot) throw new TaskFailure(`snapshot '${snapname}' does not exist`);
        if (container.status === 'running') {
          ctx.log(`stopping CT ${vmid} for rollback`);
          await sim.markStopped(container);
        }
        ctx.log(`  Logical volume "vm-${vmid}-disk-0" successfully removed.`);
        ctx.log(`  Logical volume "vm-${vmid}-disk-0" created.`);
        container.config = { ...snapshot.config };
        // __snapshot_apply_config builds the new config from the snapshot alone.
        container.pending = noPendingChanges();
        container.guest = GuestSystem.fromJSON(snapshot.guest);
        container.parent = snapname;
        preparation.release();
      },
      afterUnlock: start ? () => startFromWorker(sim, node, vmid, req.principal.userid) : undefined,
      onFailure: () => preparation.release(),
    });
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config', (req) => {
    const { node, vmid } = ids(req);
    const container = loadContainer(cluster, node, vmid);
    const snapname = req.params.required('snapname');
    const snapshot = container.snapshots.find((s) => s.name === snapname);
    if (!snapshot) throw PveError.die(`snapshot '${snapname}' does not exist`);
    return {
      ...typedConfig(snapshot.config),
      description: snapshot.description,
      snaptime: snapshot.snaptime,
      ...(snapshot.parent ? { parent: snapshot.parent } : {}),
    };
  });

  router.add('PUT', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config', (req) => {
    const { node, vmid } = ids(req);
    const description = req.params.str('description');
    if (description === undefined) return null;
    const snapname = req.params.required('snapname');
    return withConfigLock(sim, node, vmid, () => {
      const container = loadContainer(cluster, node, vmid);
      checkLock(container);
      const snapshot = container.snapshots.find((s) => s.name === snapname);
      if (!snapshot) throw PveError.die(`snapshot '${snapname}' does not exist`);
      snapshot.description = description;
      sim.changed();
      return null;
    });
  });
}
