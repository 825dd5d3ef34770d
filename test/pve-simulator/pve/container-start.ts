import { Simulation } from '../simulation';
import { Container } from '../state/container';
import { TaskFailure } from '../tasks/task-manager';
import { configPath, lockMessage } from './container-access';
import { PveError } from './pve-error';

/** The container a worker acts on: the config must (still) exist on the node when it runs. */
export function workerContainer(sim: Simulation, node: string, vmid: number): Container {
  const container = sim.cluster.containerOn(node, vmid);
  if (!container) {
    throw new TaskFailure(`Configuration file '${configPath(node, vmid)}' does not exist`);
  }
  return container;
}

/** load_config inside a worker, then its checks: the first refusal, or null. */
export function workerPrecheck(
  sim: Simulation,
  node: string,
  vmid: number,
  check: (container: Container) => string | null,
): string | null {
  const container = sim.cluster.containerOn(node, vmid);
  if (!container) return `Configuration file '${configPath(node, vmid)}' does not exist`;
  return check(container);
}

/** A `mounted` lock does not stop start or stop; `skiplock` (root only) skips the check. */
export function lockUnlessSkipped(container: Container, skiplock: boolean): string | null {
  return skiplock || container.lock === 'mounted' ? null : lockMessage(container);
}

export interface StartRequest {
  node: string;
  vmid: number;
  user: string;
  skiplock: boolean;
  injectedFailure: string | null;
}

/**
 * PVE::API2::LXC::Status->vm_start: refuses a running guest at once, then
 * forks a vzstart worker that holds the config lock while the guest starts.
 */
export function forkStartWorker(sim: Simulation, request: StartRequest): string {
  const { node, vmid, skiplock } = request;
  if (sim.cluster.containerOn(node, vmid)?.status === 'running')
    throw PveError.die(`CT ${vmid} already running`);
  return sim.tasks.spawn({
    node,
    type: 'vzstart',
    id: String(vmid),
    user: request.user,
    injectedFailure: request.injectedFailure,
    configLock: { vmid, holdWhileRunning: true },
    precheck: () =>
      workerPrecheck(sim, node, vmid, (container) =>
        container.isTemplate()
          ? "you can't start a CT if it's a template"
          : lockUnlessSkipped(container, skiplock),
      ),
    run: async () => {
      const container = workerContainer(sim, node, vmid);
      if (container.status === 'running') throw new TaskFailure(`CT ${vmid} already running`);
      await sim.markRunning(container);
    },
  });
}

/**
 * vm_start called by a create or rollback worker with start=1: outside the
 * CLI fork_worker does not wait, so the calling task ends OK while the new
 * vzstart task (its own UPID and log) may still run or fail. A fault rule with
 * `failTask` on `POST …/status/start` fails that vzstart task.
 */
export function startFromWorker(sim: Simulation, node: string, vmid: number, user: string): void {
  const injectedFailure = sim.faults.matchNestedCall(
    'POST',
    `/api2/json/nodes/${node}/lxc/${vmid}/status/start`,
  );
  try {
    forkStartWorker(sim, { node, vmid, user, skiplock: false, injectedFailure });
  } catch (error) {
    if (error instanceof PveError) throw new TaskFailure(error.message);
    throw error;
  }
}
