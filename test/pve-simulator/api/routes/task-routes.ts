import { splitList } from '../schema/named-formats';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { Task } from '../../tasks/task-manager';
import { WithTotal } from '../api-request';
import { Router } from '../router';

const UPID =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Splits `user@realm!token` the way the tasks API reports token tasks. */
function userFields(user: string): { user: string; tokenid?: string } {
  const match = /^(.+@[^!]+)!(.+)$/.exec(user);
  return match ? { user: match[1], tokenid: match[2] } : { user };
}

function statusType(task: Task): 'ok' | 'warning' | 'error' | 'unknown' {
  // normalize_status_type: a log without a TASK line reads 'unexpected status'.
  if (task.exitstatus === null || task.exitstatus === 'unexpected status') return 'unknown';
  if (task.exitstatus === 'OK') return 'ok';
  if (/^WARNINGS: \d+$/.test(task.exitstatus)) return 'warning';
  return 'error';
}

export function registerTaskRoutes(router: Router, sim: Simulation): void {
  /**
   * A task's log file lives in /var/log/pve/tasks of the node that ran it, and
   * pveproxy hands the request to {node}: another node has no file for the
   * UPID, so the task is as unknown there as a made-up one.
   */
  const findTask = (upid: string, node: string): Task | undefined => {
    if (!UPID.test(upid)) throw PveError.param({ upid: 'unable to parse worker upid' });
    const task = sim.tasks.get(upid);
    return task?.node === node ? task : undefined;
  };

  router.add('GET', '/nodes/{node}/tasks', (req) => {
    const node = req.params.required('node');
    const start = req.params.int('start') ?? 0;
    let limit = req.params.int('limit') ?? 50;
    const vmid = req.params.str('vmid');
    const typefilter = req.params.str('typefilter');
    const userfilter = req.params.str('userfilter')?.toLowerCase();
    const source = req.params.str('source') ?? 'archive';
    const errorsOnly = req.params.bool('errors');
    const since = req.params.int('since');
    const until = req.params.int('until');
    const statusFilter =
      req.params.has('statusfilter') && !errorsOnly
        ? new Set(splitList(req.params.required('statusfilter')).map((s) => s.toLowerCase()))
        : null;
    let count = 0;
    const result: unknown[] = [];
    const tasks = sim.tasks
      .list()
      .filter((task) => task.node === node)
      .sort((a, b) => b.starttime - a.starttime || b.pid - a.pid);
    for (const task of tasks) {
      if (source === 'active' && task.status !== 'running') continue;
      if (source === 'archive' && task.status === 'running') continue;
      if (userfilter && !task.user.toLowerCase().includes(userfilter)) continue;
      if (typefilter && task.type !== typefilter) continue;
      if (vmid && task.id !== vmid) continue;
      if (since !== undefined && task.starttime < since) continue;
      if (until !== undefined && task.starttime > until) continue;
      const type = statusType(task);
      if (errorsOnly && type === 'ok') continue;
      if (statusFilter && task.status !== 'running' && !statusFilter.has(type)) continue;
      if (count++ < start) continue;
      if (limit <= 0) continue;
      limit--;
      const item: Record<string, unknown> = {
        upid: task.upid,
        node: task.node,
        pid: task.pid,
        pstart: task.pstart,
        starttime: task.starttime,
        type: task.type,
        id: task.id,
        ...userFields(task.user),
      };
      if (task.status === 'running') item.status = 'RUNNING';
      else {
        item.endtime = task.endtime;
        item.status = task.exitstatus;
      }
      result.push(item);
    }
    return new WithTotal(result, count);
  });

  router.add('GET', '/nodes/{node}/tasks/{upid}', () => [{ name: 'log' }, { name: 'status' }]);

  router.add('DELETE', '/nodes/{node}/tasks/{upid}', (req) => {
    const task = findTask(req.params.required('upid'), req.params.required('node'));
    if (!task) throw PveError.param({ upid: 'no such task' });
    throw PveError.die('stopping tasks is not supported by the Proxmox VE simulator');
  });

  router.add('GET', '/nodes/{node}/tasks/{upid}/status', (req) => {
    const upid = req.params.required('upid');
    const task = findTask(upid, req.params.required('node'));
    if (!task) throw PveError.param({ upid: 'no such task' });
    const status: Record<string, unknown> = {
      upid,
      node: task.node,
      pid: task.pid,
      pstart: task.pstart,
      starttime: task.starttime,
      type: task.type,
      id: task.id,
      ...userFields(task.user),
      status: task.status,
    };
    if (task.status === 'stopped') status.exitstatus = task.exitstatus;
    return status;
  });

  router.add('GET', '/nodes/{node}/tasks/{upid}/log', (req) => {
    const task = findTask(req.params.required('upid'), req.params.required('node'));
    if (req.params.bool('download') && (req.params.has('start') || req.params.has('limit')))
      throw PveError.die("'download' cannot be used together with 'start' or 'limit' parameters");
    if (!task)
      return new WithTotal([{ n: 1, t: 'unable to open file - No such file or directory' }], 1);
    const start = req.params.int('start') ?? 0;
    const limit = req.params.int('limit') ?? 50;
    const lines = task.lines.length > 0 ? task.lines : ['no content'];
    const selected = lines
      .slice(start, limit === 0 ? undefined : start + limit)
      .map((t, i) => ({ n: start + i + 1, t }));
    return new WithTotal(selected, lines.length);
  });
}
