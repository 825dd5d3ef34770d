import { loadContainer } from '../../pve/container-access';
import {
  forkStartWorker,
  lockUnlessSkipped,
  workerContainer,
  workerPrecheck,
} from '../../pve/container-start';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { TaskFailure } from '../../tasks/task-manager';
import type { ApiRequest } from '../api-request';
import { Router } from '../router';
import { containerStatus } from './lxc-routes';

function rejectSkiplockForNonRoot(req: ApiRequest): boolean {
  const skiplock = req.params.bool('skiplock');
  if (skiplock && req.principal.userid !== 'root@pam') {
    throw PveError.param({ skiplock: 'Only root may use this option.' });
  }
  return skiplock;
}

/** status/current, start, stop, shutdown, reboot, as pve-container's API2::LXC::Status does them. */
export function registerLxcStatusRoutes(router: Router, sim: Simulation): void {
  const { cluster } = sim;
  const ids = (req: ApiRequest): { node: string; vmid: number } => ({
    node: req.params.required('node'),
    vmid: Number(req.params.required('vmid')),
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/status', (req) => {
    const { node, vmid } = ids(req);
    loadContainer(cluster, node, vmid);
    return ['current', 'start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume'].map(
      (subdir) => ({ subdir }),
    );
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/status/current', (req) => {
    const { node, vmid } = ids(req);
    const container = loadContainer(cluster, node, vmid);
    return { ...containerStatus(container, sim.now()), ha: { managed: 0 } };
  });

  router.add('POST', '/nodes/{node}/lxc/{vmid}/status/start', (req) => {
    const { node, vmid } = ids(req);
    const skiplock = rejectSkiplockForNonRoot(req);
    return forkStartWorker(sim, {
      node,
      vmid,
      user: req.principal.userid,
      skiplock,
      injectedFailure: req.failTask,
    });
  });

  const stopLike = (action: 'stop' | 'shutdown'): ((req: ApiRequest) => string) => {
    return (req) => {
      const { node, vmid } = ids(req);
      const skiplock = action === 'stop' ? rejectSkiplockForNonRoot(req) : false;
      if (cluster.containerOn(node, vmid)?.status !== 'running') {
        throw PveError.die(`CT ${vmid} not running`);
      }
      return sim.tasks.spawn({
        node,
        type: action === 'stop' ? 'vzstop' : 'vzshutdown',
        id: String(vmid),
        user: req.principal.userid,
        injectedFailure: req.failTask,
        configLock: { vmid, holdWhileRunning: true },
        precheck: () =>
          workerPrecheck(sim, node, vmid, (container) => lockUnlessSkipped(container, skiplock)),
        run: async () => {
          const container = workerContainer(sim, node, vmid);
          if (container.status !== 'running') return;
          await sim.markStopped(container);
        },
      });
    };
  };
  router.add('POST', '/nodes/{node}/lxc/{vmid}/status/stop', stopLike('stop'));
  router.add('POST', '/nodes/{node}/lxc/{vmid}/status/shutdown', stopLike('shutdown'));

  router.add('POST', '/nodes/{node}/lxc/{vmid}/status/reboot', (req) => {
    const { node, vmid } = ids(req);
    if (cluster.containerOn(node, vmid)?.status !== 'running') {
      throw PveError.die(`VM ${vmid} not running`);
    }
    return sim.tasks.spawn({
      node,
      type: 'vzreboot',
      id: String(vmid),
      user: req.principal.userid,
      injectedFailure: req.failTask,
      run: async () => {
        const container = workerContainer(sim, node, vmid);
        if (container.status !== 'running') throw new TaskFailure(`CT ${vmid} not running`);
        await sim.markStopped(container);
        await sim.markRunning(container);
      },
    });
  });
}
