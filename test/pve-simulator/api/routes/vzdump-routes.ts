import { PROPERTY_STRING_FORMATS, splitList } from '../schema/named-formats';
import { parsePropertyString } from '../schema/parameter-schema';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { ClusterNode } from '../../state/cluster';
import { Container } from '../../state/container';
import { formatSize } from '../../state/container-config';
import { VZDUMP_LOCK_FILE } from '../../pve/vzdump-lock';
import { TaskContext, TaskExit, TaskFailure } from '../../tasks/task-manager';
import type { ApiRequest } from '../api-request';
import { Router } from '../router';

const ARCHIVE_SUFFIX: Readonly<Record<string, string>> = {
  '0': 'tar',
  '1': 'tar.lzo',
  lzo: 'tar.lzo',
  gzip: 'tar.gz',
  zstd: 'tar.zst',
};

function verifyNotesTemplate(template: string): string | null {
  if (template.includes('\n')) return 'contains a line feed\n';
  const problems: string[] = [];
  for (const match of template.matchAll(/\\(.)/g))
    if (!/^[n\\]$/.test(match[1]))
      problems.push(`escape sequence '\\${match[1]}' at char ${match.index ?? 0}`);
  for (const match of template.matchAll(/\{\{([^\s{}]+)\}\}/g)) {
    if (!/^(cluster|guestname|node|vmid)$/.test(match[1]))
      problems.push(`variable '${match[1]}' at char ${(match.index ?? 0) + 2}`);
  }
  return problems.length > 0 ? `found unknown: ${problems.join(', ')}\n` : null;
}

function timestamp(date: Date): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}_${pad(date.getMonth() + 1)}_${pad(date.getDate())}-${pad(date.getHours())}_${pad(date.getMinutes())}_${pad(date.getSeconds())}`;
}

function logLine(ctx: TaskContext, level: 'INFO' | 'ERROR', message: string): void {
  ctx.log(`${level}: ${message}`);
}

/** The locks a backup job holds: its node's vzdump lock, then each guest's `backup` lock. */
interface JobLocks {
  /** What getlock logs as the worker starts when another job holds the node's lock. */
  startLines: string[];
  /** Waits for the node's lock if needed, then locks the guests. */
  acquire(ctx: TaskContext): Promise<void>;
  /** `CT is locked (…)` for a guest another operation had locked. */
  lockError(vmid: number): string | undefined;
  /** Unlocks the guests, then hands the node's lock on; runs once. */
  release(): void;
}

/**
 * VZDump::getlock, then the guests' backup locks. The worker starts when the
 * request is answered, so a free node lock and the guests' locks are taken
 * at once; a taken one is waited for up to `lockwait` minutes (0: not at
 * all), and if it never comes the worker exits without a TASK line.
 */
function claimJobLocks(sim: Simulation, node: string, vmids: number[], lockwait: number): JobLocks {
  const nodeLock = sim.vzdumpLocks.claim(node, lockwait * sim.latency.vzdumpMinuteMs);
  const lockErrors = new Map<number, string>();
  let guestsLocked = false;
  const lockGuests = (): void => {
    for (const vmid of vmids) {
      const container = sim.cluster.containers.get(vmid);
      if (!container) continue;
      if (container.lock) lockErrors.set(vmid, `CT is locked (${container.lock})`);
      else container.lock = 'backup';
    }
    guestsLocked = true;
    sim.changed();
  };
  let startLines: string[] = [];
  if (nodeLock.immediate) {
    lockGuests();
  } else if (lockwait === 0) {
    nodeLock.release();
    startLines = [`ERROR: can't acquire lock '${VZDUMP_LOCK_FILE}' (wait = 0)`];
  } else {
    startLines = ['INFO: trying to get global lock - waiting...'];
  }
  let released = false;
  return {
    startLines,
    acquire: async (ctx) => {
      if (nodeLock.immediate) return;
      if (!(await nodeLock.granted)) {
        if (lockwait > 0)
          logLine(ctx, 'ERROR', `can't acquire lock '${VZDUMP_LOCK_FILE}' - got timeout`);
        throw new TaskExit();
      }
      logLine(ctx, 'INFO', 'got global lock');
      lockGuests();
    },
    lockError: (vmid) => lockErrors.get(vmid),
    release: () => {
      if (released) return;
      released = true;
      if (guestsLocked) {
        for (const vmid of vmids) {
          const container = sim.cluster.containers.get(vmid);
          if (container?.lock === 'backup' && !lockErrors.has(vmid)) container.lock = null;
        }
        sim.changed();
      }
      nodeLock.release();
    },
  };
}

/** POST /nodes/{node}/vzdump as pve-manager's VZDump does it for containers. */
export function registerVzdumpRoutes(router: Router, sim: Simulation): void {
  const { cluster } = sim;
  /** Archives of the same guest never share a second: the simulated clock ticks on instead. */
  const lastArchiveSecond = new Map<number, number>();

  router.add('POST', '/nodes/{node}/vzdump', (req: ApiRequest) => {
    const { params } = req;
    const node = cluster.node(params.required('node')) as ClusterNode;
    if (params.bool('stdout'))
      throw PveError.param({ stdout: 'option is only allowed on the command line interface.' });
    if (params.has('all') && params.bool('all') && params.has('vmid'))
      throw PveError.param({ all: "option conflicts with option 'vmid'" });
    if (params.has('exclude') && params.has('vmid'))
      throw PveError.param({ exclude: "option conflicts with option 'vmid'" });
    if (params.has('pool') && params.has('vmid'))
      throw PveError.param({ pool: "option conflicts with option 'vmid'" });
    const pruneText = params.str('prune-backups');
    const prune =
      pruneText === undefined
        ? null
        : parsePropertyString(PROPERTY_STRING_FORMATS['prune-backups'], pruneText, 'prune-backups');
    const notesTemplate = params.str('notes-template');
    if (notesTemplate !== undefined) {
      const problem = verifyNotesTemplate(notesTemplate);
      if (problem) throw PveError.param({ 'notes-template': problem });
    }
    const all = params.bool('all') || params.has('exclude');
    if (!all && !params.bool('stop') && !params.has('pool') && !params.has('vmid'))
      throw PveError.param({ vmid: 'property is missing' });
    if (params.has('pool')) throw PveError.die(`pool '${params.required('pool')}' does not exist`);

    const excluded = new Set(splitList(params.str('exclude') ?? '').map(Number));
    const requested = all
      ? [...cluster.containers.values()].map((c) => c.vmid).filter((id) => !excluded.has(id))
      : splitList(params.str('vmid') ?? '').map(Number);
    const local = requested.filter(
      (vmid) => !cluster.containers.has(vmid) || cluster.containers.get(vmid)?.node === node.name,
    );
    const skipped = requested.filter((vmid) => !local.includes(vmid)).sort((a, b) => a - b);
    if (params.bool('stop') && local.length === 0) return 'OK';
    if (local.length === 0 && !all) return 'OK';

    const storageId = params.str('storage') ?? 'local';
    const mode = params.str('mode') ?? 'snapshot';
    const compress = params.str('compress') ?? '0';
    const protect = params.bool('protected');
    const remove = params.has('remove') ? params.bool('remove') : true;
    const vmids = [...local].sort((a, b) => a - b);
    const commandLine = [
      'vzdump',
      ...vmids.map(String),
      ...['storage', 'mode', 'compress', 'remove', 'notes-template', 'prune-backups', 'protected']
        .filter((k) => params.has(k))
        .flatMap((k) => [`--${k}`, params.required(k)]),
      '--node',
      node.name,
    ];

    const locks = claimJobLocks(sim, node.name, vmids, params.int('lockwait') ?? 180);

    return sim.tasks.spawn({
      node: node.name,
      type: 'vzdump',
      id: vmids.length === 1 ? String(vmids[0]) : '',
      user: req.principal.userid,
      injectedFailure: req.failTask,
      startLines: locks.startLines,
      run: async (ctx) => {
        await locks.acquire(ctx);
        const storage = node.storages.get(storageId);
        if (!storage)
          throw new TaskFailure(
            `could not activate storage '${storageId}': storage '${storageId}' does not exist`,
          );
        if (!storage.supports('backup'))
          throw new TaskFailure(
            `could not get storage information for '${storageId}': can't use storage '${storageId}' for backups - wrong content type`,
          );
        logLine(ctx, 'INFO', `starting new backup job: ${commandLine.join(' ')}`);
        if (skipped.length > 0) logLine(ctx, 'INFO', `skip external VMs: ${skipped.join(', ')}`);
        let errors = 0;
        for (const vmid of vmids) {
          const container = cluster.containers.get(vmid);
          const failed = (message: string): void => {
            errors++;
            logLine(ctx, 'ERROR', `Backup of VM ${vmid} failed - ${message}`);
          };
          if (!container) {
            failed(`unable to find VM '${vmid}'`);
            continue;
          }
          logLine(ctx, 'INFO', `Starting Backup of VM ${vmid} (lxc)`);
          logLine(ctx, 'INFO', `status = ${container.status}`);
          const lockError = locks.lockError(vmid);
          if (lockError) {
            failed(lockError);
            continue;
          }
          await backupOne(ctx, container, storage.id);
        }
        logLine(
          ctx,
          'INFO',
          errors > 0 ? 'Backup job finished with errors' : 'Backup job finished successfully',
        );
        locks.release();
        if (errors > 0) throw new TaskFailure('job errors');
      },
      onFailure: () => locks.release(),
    });

    async function backupOne(
      ctx: TaskContext,
      container: Container,
      storeId: string,
    ): Promise<void> {
      const storage = node.storages.get(storeId);
      if (!storage) return;
      const vmid = container.vmid;
      logLine(ctx, 'INFO', `CT Name: ${container.hostname()}`);
      logLine(ctx, 'INFO', "including mount point rootfs ('/') in backup");
      const wasRunning = container.status === 'running';
      const effectiveMode = mode === 'snapshot' && !wasRunning ? 'stop' : mode;
      logLine(ctx, 'INFO', `backup mode: ${effectiveMode}`);
      logLine(ctx, 'INFO', `ionice priority: ${params.int('ionice') ?? 7}`);
      if (mode === 'stop' && wasRunning) {
        logLine(ctx, 'INFO', 'stopping virtual guest');
        await sim.markStopped(container);
      }
      if (mode === 'snapshot' && wasRunning)
        logLine(ctx, 'INFO', "create storage snapshot 'vzdump'");
      let second = Math.floor(sim.now() / 1000);
      const last = lastArchiveSecond.get(vmid);
      if (last !== undefined && second <= last) second = last + 1;
      lastArchiveSecond.set(vmid, second);
      const name = `vzdump-lxc-${vmid}-${timestamp(new Date(second * 1000))}.${ARCHIVE_SUFFIX[compress] ?? 'tar'}`;
      const volname = `backup/${name}`;
      logLine(ctx, 'INFO', `creating vzdump archive '${storage.pathOf(volname)}'`);
      const size = 512 * 1024 * 1024 + container.guest.fs.usedBytes();
      logLine(ctx, 'INFO', `Total bytes written: ${size} (${formatSize(size)}, 240MiB/s)`);
      logLine(ctx, 'INFO', `archive file size: ${formatSize(Math.round(size / 3))}`);
      const notes = notesTemplate?.replace(
        /\{\{(cluster|guestname|node|vmid)\}\}/g,
        (_match, variable: string) =>
          variable === 'guestname'
            ? container.hostname()
            : variable === 'node'
              ? node.name
              : variable === 'vmid'
                ? String(vmid)
                : 'proximity-sim',
      );
      storage.add({
        volid: `${storage.id}:${volname}`,
        volname,
        content: 'backup',
        format: ARCHIVE_SUFFIX[compress] ?? 'tar',
        size: Math.round(size / 3),
        ctime: second,
        vmid,
        notes: notes?.replace(/\\n/g, '\n'),
        protected: protect || undefined,
        archive: { config: { ...container.config }, guest: container.guest.toJSON() },
      });
      if (notes !== undefined) logLine(ctx, 'INFO', 'adding notes to backup');
      if (protect) logLine(ctx, 'INFO', 'marking backup as protected');
      if (remove && prune && prune['keep-all'] !== '1' && prune['keep-last'] !== undefined) {
        const keep = Number(prune['keep-last']);
        const backups = [...storage.volumes.values()]
          .filter((v) => v.content === 'backup' && v.vmid === vmid && !v.protected)
          .sort((a, b) => b.ctime - a.ctime);
        logLine(ctx, 'INFO', `prune older backups with retention: keep-last=${keep}`);
        const doomed = backups.slice(keep);
        for (const volume of doomed) {
          logLine(ctx, 'INFO', `removing backup '${volume.volid}'`);
          storage.volumes.delete(volume.volname);
        }
        logLine(ctx, 'INFO', `pruned ${doomed.length} backup(s)`);
      }
      if (mode === 'snapshot' && wasRunning)
        logLine(ctx, 'INFO', "cleanup temporary 'vzdump' snapshot");
      if (mode === 'stop' && wasRunning) {
        logLine(ctx, 'INFO', 'restarting vm');
        await sim.markRunning(container);
      }
      logLine(ctx, 'INFO', `Finished Backup of VM ${vmid} (00:00:01)`);
      sim.changed();
    }
  });
}
