import { checkLock, configPath, loadContainer, lockMessage } from '../../pve/container-access';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { Container, LockName } from '../../state/container';
import { GuestSystem } from '../../guest/guest-system';
import { typedConfig } from '../../state/container-config';
import { TaskFailure } from '../../tasks/task-manager';
import type { ApiRequest } from '../api-request';
import { Router } from '../router';

/**
 * Snapshot preparation happens when the request arrives (the worker starts at
 * once on a real node): its error, if any, ends the task; otherwise the lock is
 * taken now and held until the task ends.
 */
function prepare(
  sim: Simulation,
  node: string,
  vmid: number,
  lock: LockName,
  check: (container: Container) => string | null,
): { container: Container | null; error: string | null } {
  const container = sim.cluster.containerOn(node, vmid) ?? null;
  if (!container)
    return {
      container: null,
      error: `Configuration file '${configPath(node, vmid)}' does not exist`,
    };
  const error = check(container);
  if (error) return { container, error };
  container.lock = lock;
  sim.changed();
  return { container, error: null };
}

/**
 * pve-common's AbstractConfig::snapshot_delete skips check_lock only when
 * `force` retries a delete that left its own `snapshot-delete` lock behind;
 * any other lock (a running backup, say) still refuses, and is kept.
 */
function retriesFailedDelete(container: Container, force: boolean): boolean {
  return force && container.lock === 'snapshot-delete';
}

function releaseLock(sim: Simulation, container: Container | null, lock: LockName): void {
  if (container && container.lock === lock) container.lock = null;
  sim.changed();
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
    const { container, error } = prepare(sim, node, vmid, 'snapshot', (ct) => {
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
      injectedFailure: error === null ? req.failTask : null,
      run: (ctx) => {
        if (error !== null || !container) throw new TaskFailure(error ?? 'unknown error');
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
        releaseLock(sim, container, 'snapshot');
      },
      onFailure: () => {
        if (error === null) releaseLock(sim, container, 'snapshot');
      },
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
    const { container, error } = prepare(sim, node, vmid, 'snapshot-delete', (ct) => {
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
      injectedFailure: error === null ? req.failTask : null,
      run: (ctx) => {
        if (error !== null || !container) throw new TaskFailure(error ?? 'unknown error');
        const removed = container.snapshots.find((s) => s.name === snapname);
        container.snapshots = container.snapshots.filter((s) => s.name !== snapname);
        for (const snapshot of container.snapshots)
          if (snapshot.parent === snapname) snapshot.parent = removed?.parent ?? null;
        if (container.parent === snapname) container.parent = removed?.parent ?? null;
        ctx.log(`  Logical volume "snap_vm-${vmid}-disk-0_${snapname}" successfully removed.`);
        releaseLock(sim, container, 'snapshot-delete');
      },
      onFailure: () => {
        if (error === null) releaseLock(sim, container, 'snapshot-delete');
      },
    });
  });

  router.add('POST', '/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback', (req) => {
    const { node, vmid } = ids(req);
    const snapname = req.params.required('snapname');
    const start = req.params.bool('start');
    const { container, error } = prepare(sim, node, vmid, 'rollback', (ct) => {
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
      injectedFailure: error === null ? req.failTask : null,
      run: async (ctx) => {
        if (error !== null || !container) throw new TaskFailure(error ?? 'unknown error');
        const snapshot = container.snapshots.find((s) => s.name === snapname);
        if (!snapshot) throw new TaskFailure(`snapshot '${snapname}' does not exist`);
        if (container.status === 'running') {
          ctx.log(`stopping CT ${vmid} for rollback`);
          await sim.markStopped(container);
        }
        ctx.log(`  Logical volume "vm-${vmid}-disk-0" successfully removed.`);
        ctx.log(`  Logical volume "vm-${vmid}-disk-0" created.`);
        container.config = { ...snapshot.config };
        container.guest = GuestSystem.fromJSON(snapshot.guest);
        container.parent = snapname;
        releaseLock(sim, container, 'rollback');
        if (start) await sim.markRunning(container);
      },
      onFailure: () => {
        if (error === null) releaseLock(sim, container, 'rollback');
      },
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
    const container = loadContainer(cluster, node, vmid);
    checkLock(container);
    const snapname = req.params.required('snapname');
    const snapshot = container.snapshots.find((s) => s.name === snapname);
    if (!snapshot) throw PveError.die(`snapshot '${snapname}' does not exist`);
    snapshot.description = description;
    sim.changed();
    return null;
  });
}
