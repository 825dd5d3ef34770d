import { utils as sshUtils } from 'ssh2';
import { GuestSystem } from '../../guest/guest-system';
import { containerInterfaces } from '../../network/container-interfaces';
import {
  checkLock,
  checkModifyConfigPermission,
  createLockWaitMs,
  isRoot,
  loadContainer,
  lockMessage,
  vmidInUseMessage,
  withConfigLock,
} from '../../pve/container-access';
import { startFromWorker, workerContainer, workerPrecheck } from '../../pve/container-start';
import { normalizeOption, updateContainerConfig } from '../../pve/config-update';
import { configWithPending, pendingEntries } from '../../pve/pending-changes';
import { PveError } from '../../pve/pve-error';
import {
  allocateDisk,
  containerVolumes,
  freeVolumes,
  NEW_DISK,
  parseVolumeId,
  requireStorage,
  rootfsValue,
  volumeType,
} from '../../pve/volumes';
import { Simulation } from '../../simulation';
import { ClusterNode } from '../../state/cluster';
import { Container, Snapshot } from '../../state/container';
import {
  ContainerConfig,
  isConfigOption,
  MountPoint,
  parseMountPoint,
  parseNetwork,
  printNetwork,
  typedConfig,
} from '../../state/container-config';
import { TaskContext, TaskFailure } from '../../tasks/task-manager';
import { NodeStorage, Volume } from '../../state/storage';
import type { ApiRequest, Params } from '../api-request';
import { Router } from '../router';

/** Parameters of POST /nodes/{node}/lxc that are not config options. */
const CREATE_ONLY = new Set([
  'node',
  'vmid',
  'ostemplate',
  'password',
  'ssh-public-keys',
  'storage',
  'force',
  'restore',
  'unique',
  'ignore-unpack-errors',
  'bwlimit',
  'start',
  'ha-managed',
  'pool',
  'unprivileged',
]);

function vmidOf(req: ApiRequest): number {
  return Number(req.params.required('vmid'));
}

function nodeOf(sim: Simulation, req: ApiRequest): ClusterNode {
  return sim.cluster.node(req.params.required('node')) as ClusterNode;
}

/** The per-guest fields of vmstatus (GET …/lxc and status/current). */
/**
 * The cgroup's PSI `avg10` percentages that pve-container's vmstatus adds for
 * a running container (absent when stopped): a quiet guest, barely waiting.
 */
const IDLE_PRESSURE = {
  pressurecpusome: 0.12,
  pressurecpufull: 0.05,
  pressureiosome: 0.03,
  pressureiofull: 0.01,
  pressurememorysome: 0,
  pressurememoryfull: 0,
} as const;

export function containerStatus(container: Container, now: number): Record<string, unknown> {
  const running = container.status === 'running';
  const status: Record<string, unknown> = {
    vmid: container.vmid,
    name: container.hostname(),
    status: container.status,
    type: 'lxc',
    cpus: container.cores() || 8,
    cpu: running ? 0.0021 : 0,
    maxmem: container.maxmem(),
    mem: running ? Math.round(container.maxmem() / 8) : 0,
    maxswap: container.maxswap(),
    swap: 0,
    maxdisk: container.maxdisk(),
    disk: running ? Math.round(container.maxdisk() / 10) : 0,
    uptime: container.uptime(now),
    netin: running ? 1024 * container.uptime(now) : 0,
    netout: running ? 512 * container.uptime(now) : 0,
    diskread: 0,
    diskwrite: 0,
  };
  if (running) Object.assign(status, { pid: 100_000 + container.vmid, ...IDLE_PRESSURE });
  if (container.config.tags) status.tags = container.config.tags;
  if (container.lock) status.lock = container.lock;
  if (container.isTemplate()) status.template = 1;
  return status;
}

function validateSshKeys(keys: string): void {
  for (const line of keys.split('\n')) {
    if (/^\s*$/.test(line)) continue;
    const parsed = sshUtils.parseKey(line.trim());
    if (parsed instanceof Error || (Array.isArray(parsed) && parsed.length === 0))
      throw PveError.die('SSH public key validation error');
  }
}

/** The config options given to create/restore, normalised as update_pct_config stores them. */
function configOptionsFrom(params: Params, randomMac: () => string): ContainerConfig {
  const config: ContainerConfig = {};
  for (const key of params.keys()) {
    if (CREATE_ONLY.has(key) || key === 'rootfs' || /^mp\d+$/.test(key) || /^unused\d+$/.test(key))
      continue;
    if (!isConfigOption(key)) continue;
    config[key] = normalizeOption(key, params.required(key), randomMac);
  }
  return config;
}

/**
 * Every /nodes/{node}/lxc route except status/* (lxc-status-routes.ts) and
 * snapshot/* (snapshot-routes.ts), one named group per Proxmox API area.
 */
export function registerLxcRoutes(router: Router, sim: Simulation): void {
  registerListAndCreateRoutes(router, sim);
  registerGuestIndexRoute(router, sim);
  registerDestroyRoute(router, sim);
  registerConfigRoutes(router, sim);
  registerInterfacesRoute(router, sim);
  registerRrdDataRoute(router, sim);
  registerCloneRoute(router, sim);
}

function randomMacOf(sim: Simulation): () => string {
  return (): string => sim.cluster.randomMac();
}

/** GET /nodes/{node}/lxc (vmstatus of each guest) and POST (create or restore). */
function registerListAndCreateRoutes(router: Router, sim: Simulation): void {
  const { cluster } = sim;
  router.add('GET', '/nodes/{node}/lxc', (req) => {
    const node = req.params.required('node');
    const now = sim.now();
    return [...cluster.containers.values()]
      .filter((container) => container.node === node)
      .map((container) => containerStatus(container, now));
  });

  router.add('POST', '/nodes/{node}/lxc', (req) => createContainer(sim, req, randomMacOf(sim)));
}

/** The subdirectories pve-container's API2::LXC vmdiridx lists, in its order. */
const GUEST_SUBDIRECTORIES = [
  'config',
  'status',
  'vncproxy',
  'termproxy',
  'vncwebsocket',
  'spiceproxy',
  'migrate',
  'clone',
  'rrd',
  'rrddata',
  'firewall',
  'snapshot',
  'resize',
  'interfaces',
  'pending',
  'feature',
  'template',
  'mtunnel',
];

function registerGuestIndexRoute(router: Router, sim: Simulation): void {
  router.add('GET', '/nodes/{node}/lxc/{vmid}', (req) => {
    loadContainer(sim.cluster, req.params.required('node'), vmidOf(req));
    return GUEST_SUBDIRECTORIES.map((subdir) => ({ subdir }));
  });
}

function registerDestroyRoute(router: Router, sim: Simulation): void {
  router.add('DELETE', '/nodes/{node}/lxc/{vmid}', (req) => destroyContainer(sim, req));
}

/**
 * DELETE /nodes/{node}/lxc/{vmid}: the early checks at once (without the
 * config file lock), then a vzdestroy worker that holds that lock, checks again
 * and sets the `destroyed` lock.
 */
function destroyContainer(sim: Simulation, req: ApiRequest): string {
  const { cluster } = sim;
  const node = nodeOf(sim, req);
  const vmid = vmidOf(req);
  const earlyChecks = (container: Container): string | null => {
    if (container.config.protection === '1')
      return `can't remove CT ${vmid} - protection mode enabled`;
    return lockMessage(container);
  };
  const refusal = earlyChecks(loadContainer(cluster, node.name, vmid));
  if (refusal) throw PveError.die(refusal);
  const force = req.params.bool('force');
  if (!force && cluster.containerOn(node.name, vmid)?.status === 'running')
    throw PveError.die(`unable to destroy CT ${vmid} - container is running`);
  let destroying: Container | null = null;
  return sim.tasks.spawn({
    node: node.name,
    type: 'vzdestroy',
    id: String(vmid),
    user: req.principal.userid,
    injectedFailure: req.failTask,
    configLock: { vmid, holdWhileRunning: true },
    precheck: () =>
      workerPrecheck(sim, node.name, vmid, (container) => {
        const problem = earlyChecks(container);
        if (problem) return problem;
        destroying = container;
        container.lock = 'destroyed';
        sim.changed();
        return null;
      }),
    run: async (ctx) => {
      const container = workerContainer(sim, node.name, vmid);
      if (container.status === 'running') {
        if (!force) throw new TaskFailure(`unable to destroy CT ${vmid} - container is running`);
        ctx.warn(`forced to stop CT ${vmid} before destroying!`);
        await sim.markStopped(container);
      }
      const volids = containerVolumes(container);
      if (req.params.bool('destroy-unreferenced-disks'))
        volids.push(...unreferencedVolumes(node, vmid));
      for (const snapshot of container.snapshots) ctx.log(`removing snapshot '${snapshot.name}'`);
      freeVolumes(node, volids);
      for (const volid of volids)
        ctx.log(
          `  Logical volume "${parseVolumeId(volid)?.volname ?? volid}" successfully removed.`,
        );
      if (req.params.bool('purge')) ctx.log(`purging CT ${vmid} from related configurations..`);
      cluster.removeContainer(vmid);
      sim.changed();
      await sim.refreshNetwork();
    },
    onFailure: () => {
      const container: Container | null = destroying;
      if (container && cluster.containers.get(vmid) === container) container.lock = null;
      sim.changed();
    },
  });
}

/** The guest's disks on the node that its config no longer names (backups are kept). */
function unreferencedVolumes(node: ClusterNode, vmid: number): string[] {
  const volids: string[] = [];
  for (const storage of node.storages.values()) {
    for (const volume of storage.volumes.values())
      if (volume.vmid === vmid && volume.content !== 'backup') volids.push(volume.volid);
  }
  return volids;
}

/** GET …/config (pending values in, ?current=1 or ?snapshot=), PUT …/config, GET …/pending. */
function registerConfigRoutes(router: Router, sim: Simulation): void {
  const { cluster } = sim;
  router.add('GET', '/nodes/{node}/lxc/{vmid}/config', (req) => {
    const snapname = req.params.str('snapshot');
    const current = req.params.bool('current');
    if (snapname !== undefined && current) {
      const message = "cannot use 'snapshot' parameter with 'current'";
      throw PveError.param({ snapshot: message, current: message });
    }
    const container = loadContainer(cluster, req.params.required('node'), vmidOf(req));
    if (snapname !== undefined) return snapshotConfig(container, snapname);
    return typedConfig(loadedConfig(container, current ? container.config : null));
  });

  router.add('GET', '/nodes/{node}/lxc/{vmid}/pending', (req) => {
    const container = loadContainer(cluster, req.params.required('node'), vmidOf(req));
    return pendingEntries(container, loadedConfig(container, container.config), sim.hashOrder);
  });

  router.add('PUT', '/nodes/{node}/lxc/{vmid}/config', (req) => {
    const node = req.params.required('node');
    const vmid = vmidOf(req);
    return withConfigLock(sim, node, vmid, () => {
      const container = loadContainer(cluster, node, vmid);
      updateContainerConfig(container, configUpdateOf(req), req.principal, randomMacOf(sim));
      sim.changed();
      return null;
    });
  });
}

/**
 * The config as load_config gives it (`lock`, `parent`, `digest` among the
 * options); `options` null means load_current_config's default, pending
 * values taken in.
 */
function loadedConfig(container: Container, options: ContainerConfig | null): ContainerConfig {
  const config = { ...(options ?? configWithPending(container)) };
  if (container.lock) config.lock = container.lock;
  if (container.parent) config.parent = container.parent;
  config.digest = container.digest();
  return config;
}

/** A snapshot's config carries the guest's current digest, as pve-container answers it. */
function snapshotConfig(container: Container, snapname: string): Record<string, unknown> {
  const snapshot = container.snapshots.find((s) => s.name === snapname);
  if (!snapshot) throw PveError.die(`snapshot '${snapname}' does not exist`);
  return {
    ...typedConfig(snapshot.config),
    snaptime: snapshot.snaptime,
    description: snapshot.description,
    ...(snapshot.parent ? { parent: snapshot.parent } : {}),
    digest: container.digest(),
  };
}

/** Parameters of PUT …/config that are not config values. */
const CONFIG_UPDATE_CONTROLS = new Set(['node', 'vmid', 'delete', 'revert', 'digest']);

function configUpdateOf(req: ApiRequest): Parameters<typeof updateContainerConfig>[1] {
  const values: Record<string, string> = {};
  for (const key of req.params.keys()) {
    if (CONFIG_UPDATE_CONTROLS.has(key)) continue;
    values[key] = req.params.required(key);
  }
  return {
    values,
    delete: req.params.str('delete'),
    revert: req.params.str('revert'),
    digest: req.params.str('digest'),
  };
}

/** GET …/interfaces: null unless running, as lxc-info finds no init pid otherwise. */
function registerInterfacesRoute(router: Router, sim: Simulation): void {
  router.add('GET', '/nodes/{node}/lxc/{vmid}/interfaces', (req) => {
    const container = sim.cluster.containerOn(req.params.required('node'), vmidOf(req));
    if (!container || container.status !== 'running') return null;
    return containerInterfaces(container, sim.now(), sim.latency.dhcpLeaseMs);
  });
}

/** Seconds between RRD points per timeframe, as pvestatd's RRAs keep them. */
const RRD_STEP_SECONDS: Readonly<Record<string, number>> = {
  hour: 60,
  day: 1800,
  week: 10800,
  month: 43200,
  year: 604800,
};

/** GET …/rrddata: 70 points, the count rrddata answers for each timeframe. */
function registerRrdDataRoute(router: Router, sim: Simulation): void {
  router.add('GET', '/nodes/{node}/lxc/{vmid}/rrddata', (req) => {
    const container = sim.cluster.containerOn(req.params.required('node'), vmidOf(req));
    if (!container) return [];
    const step = RRD_STEP_SECONDS[req.params.required('timeframe')] ?? 60;
    const end = Math.floor(sim.now() / 1000 / step) * step;
    const points: unknown[] = [];
    for (let i = 69; i >= 0; i--) points.push(rrdPoint(container, end - i * step));
    return points;
  });
}

function rrdPoint(container: Container, time: number): Record<string, unknown> {
  const running =
    container.status === 'running' &&
    container.startedAt !== null &&
    time * 1000 >= container.startedAt;
  return {
    time,
    maxcpu: container.cores() || 8,
    cpu: running ? 0.0021 : 0,
    maxmem: container.maxmem(),
    mem: running ? Math.round(container.maxmem() / 8) : 0,
    maxdisk: container.maxdisk(),
    disk: running ? Math.round(container.maxdisk() / 10) : 0,
    netin: running ? 1024 : 0,
    netout: running ? 512 : 0,
    diskread: 0,
    diskwrite: 0,
  };
}

function registerCloneRoute(router: Router, sim: Simulation): void {
  router.add('POST', '/nodes/{node}/lxc/{vmid}/clone', (req) =>
    cloneContainer(sim, req, randomMacOf(sim)),
  );
}

/** What a create or restore task needs, decided before the task starts. */
interface CreatePlan {
  vmid: number;
  ostemplate: string;
  /** The "unable to create/restore CT N -" prefix of the task's failures. */
  emsg: string;
  config: ContainerConfig;
  sshKeys: string | undefined;
  /** `unprivileged` as given; restore keeps the archive's value when it is absent. */
  unprivilegedParam: string | undefined;
  unique: boolean;
  rootfsStorage: string;
  rootfsSize: number | null;
}

/**
 * POST /nodes/{node}/lxc: create from a template or restore a backup, as API2::LXC
 * create_vm does: create_and_lock_config in the request, then a worker that holds
 * the config file lock for its whole run.
 */
async function createContainer(
  sim: Simulation,
  req: ApiRequest,
  randomMac: () => string,
): Promise<string> {
  const { cluster } = sim;
  const { params, principal } = req;
  const node = sim.cluster.node(params.required('node')) as ClusterNode;
  const vmid = Number(params.required('vmid'));
  const restore = params.bool('restore');
  const start = params.bool('start');
  const existing = cluster.containerOn(node.name, vmid);
  const unprivilegedParam = params.str('unprivileged');
  const unprivileged = unprivilegedParam === undefined ? !restore : unprivilegedParam === '1';

  checkCreateTarget(sim, req, existing);
  const sshKeys = params.str('ssh-public-keys');
  if (sshKeys !== undefined) validateSshKeys(sshKeys);
  const pool = params.str('pool');
  if (pool !== undefined) throw PveError.die(`pool '${pool}' does not exist`);
  checkModifyConfigPermission(principal, null, createConfigParams(params), [], unprivileged);
  const ostemplate = params.required('ostemplate');
  const storageId = params.str('storage') ?? 'local';
  const archive = checkArchive(node, ostemplate, restore ? 'backup' : 'vztmpl', principal);
  const rootfs = rootfsPlacement(node, req, storageId);

  const config = configOptionsFrom(params, randomMac);
  if (unprivileged) config.unprivileged = '1';
  const emsg = restore ? `unable to restore CT ${vmid} -` : `unable to create CT ${vmid} -`;
  const { container, overwritten } = await withConfigLock(
    sim,
    node.name,
    vmid,
    () => reserveContainer(sim, node, vmid, config, emsg, params.bool('force')),
    { timeoutMs: createLockWaitMs(sim), errorPrefix: `${emsg} ` },
  );
  const plan: CreatePlan = {
    vmid,
    ostemplate,
    emsg,
    config,
    sshKeys,
    unprivilegedParam,
    unique: params.bool('unique'),
    rootfsStorage: rootfs.storage,
    rootfsSize: rootfs.size,
  };

  return sim.tasks.spawn({
    node: node.name,
    type: restore ? 'vzrestore' : 'vzcreate',
    id: String(vmid),
    user: principal.userid,
    injectedFailure: req.failTask,
    configLock: { vmid, holdWhileRunning: true },
    run: (ctx) => {
      const storage = node.storages.get(archive?.storage ?? '');
      const volume = archive ? storage?.volumes.get(archive.volname) : undefined;
      const contents = restore
        ? restoreContents(ctx, plan, volume, randomMac)
        : templateContents(ctx, plan, storage, volume);
      installContainer(sim, node, container, overwritten, contents, plan);
    },
    afterUnlock: start ? () => startFromWorker(sim, node.name, vmid, principal.userid) : undefined,
    onFailure: () => {
      if (overwritten) {
        overwritten.lock = null;
      } else if (cluster.containers.get(vmid) === container) {
        freeVolumes(node, containerVolumes(container));
        cluster.removeContainer(vmid);
      }
      sim.changed();
    },
  });
}

/** The vmid must be free, unless a restore with force overwrites a stopped, unprotected guest. */
function checkCreateTarget(
  sim: Simulation,
  req: ApiRequest,
  existing: Container | undefined,
): void {
  const { params } = req;
  const vmid = Number(params.required('vmid'));
  if (!(existing && params.bool('restore') && params.bool('force'))) {
    const inUse = vmidInUseMessage(sim.cluster, vmid);
    if (inUse) throw PveError.die(inUse);
  } else {
    if (existing.status === 'running') throw PveError.die("can't overwrite running container");
    if (existing.config.protection === '1')
      throw PveError.die(`unable to restore CT ${vmid} - protection mode enabled`);
  }
}

function createConfigParams(params: Params): Record<string, string> {
  const configParams: Record<string, string> = {};
  for (const key of params.keys())
    if (!CREATE_ONLY.has(key)) configParams[key] = params.required(key);
  return configParams;
}

/** A volume id must hold the right content; a plain path is root's privilege. */
function checkArchive(
  node: ClusterNode,
  ostemplate: string,
  contentType: 'backup' | 'vztmpl',
  principal: ApiRequest['principal'],
): ReturnType<typeof parseVolumeId> {
  const archive = parseVolumeId(ostemplate);
  if (archive) {
    const archiveStorage = requireStorage(node, archive.storage);
    const type = volumeType(archiveStorage, archive.volname);
    if (type !== contentType)
      throw PveError.die(
        `unable to use volume ${ostemplate} - content type needs to be '${contentType}'`,
      );
  } else if (!isRoot(principal)) {
    throw PveError.die('Only root can pass arbitrary filesystem paths.');
  }
  return archive;
}

/** Where the root disk goes: only new disks (`STORAGE:SIZE`) are simulated. */
function rootfsPlacement(
  node: ClusterNode,
  req: ApiRequest,
  storageId: string,
): { storage: string; size: number | null } {
  const { params, principal } = req;
  const checkRootdirStorage = (sid: string): void => {
    const storage = requireStorage(node, sid);
    if (!storage.supports('rootdir'))
      throw PveError.param({ storage: `storage '${sid}' does not support container directories` });
  };
  const hasMountPoints = params.keys().some((key) => /^mp\d+$/.test(key));
  let rootfsSpec = params.str('rootfs');
  if (rootfsSpec === undefined && hasMountPoints)
    throw PveError.die("mount points configured, but 'rootfs' not set - aborting");
  if (rootfsSpec === undefined) {
    checkRootdirStorage(storageId);
    return { storage: storageId, size: null };
  }
  if (/^\d+(\.\d+)?$/.test(rootfsSpec)) rootfsSpec = `${storageId}:${rootfsSpec}`;
  const mount = parseMountPoint('rootfs', rootfsSpec);
  const newDisk = NEW_DISK.exec(mount.volume);
  if (newDisk) {
    const storage = newDisk[1] ?? storageId;
    checkRootdirStorage(storage);
    return { storage, size: Number(newDisk[2]) };
  }
  if (mount.volume.startsWith('/')) {
    if (!isRoot(principal)) throw PveError.die('Only root can pass arbitrary filesystem paths.');
    throw PveError.die('bind mounts as rootfs are not supported by the Proxmox VE simulator');
  }
  throw PveError.die(
    'using an existing volume as rootfs is not supported by the Proxmox VE simulator',
  );
}

/**
 * create_and_lock_config: under the config file lock, the vmid must (still)
 * be free, unless `force` lets a restore overwrite it, and that guest unlocked;
 * then the `create` lock is set on it, or on a new placeholder guest.
 */
function reserveContainer(
  sim: Simulation,
  node: ClusterNode,
  vmid: number,
  config: ContainerConfig,
  emsg: string,
  force: boolean,
): { container: Container; overwritten: Container | undefined } {
  const { cluster } = sim;
  const existing = cluster.containerOn(node.name, vmid);
  const inUse = vmidInUseMessage(cluster, vmid);
  if (inUse && !(existing && force)) throw PveError.die(`${emsg} ${inUse}`);
  if (existing) {
    const locked = lockMessage(existing);
    if (locked) throw PveError.die(`${emsg} ${locked}`);
    existing.lock = 'create';
  }
  const container =
    existing ??
    new Container(
      vmid,
      node.name,
      {},
      GuestSystem.fromTemplate(config.hostname ?? `CT${vmid}`),
      cluster.allocateAddress(),
      'create',
    );
  if (!existing) cluster.addContainer(container);
  sim.changed();
  return { container, overwritten: existing };
}

interface ContainerContents {
  config: ContainerConfig;
  guest: GuestSystem;
  rootfsSize: number | null;
}

/** vzrestore: the archive's config (without disks and lock) merged under the given options. */
function restoreContents(
  ctx: TaskContext,
  plan: CreatePlan,
  volume: Volume | undefined,
  randomMac: () => string,
): ContainerContents {
  const { ostemplate } = plan;
  if (!volume?.archive) throw new TaskFailure(`${plan.emsg} can't find file '${ostemplate}'`);
  ctx.log(`recovering backed-up configuration from '${ostemplate}'`);
  const archived = { ...volume.archive.config };
  const archivedRootfs = archived.rootfs;
  for (const key of Object.keys(archived))
    if (key === 'rootfs' || /^mp\d+$/.test(key) || /^unused\d+$/.test(key) || key === 'lock')
      delete archived[key];
  let rootfsSize = plan.rootfsSize;
  if (rootfsSize === null && archivedRootfs) {
    const size = parseMountPoint('rootfs', archivedRootfs).size;
    rootfsSize = size ? Number(/^(\d+)/.exec(size)?.[1] ?? 8) : 8;
  }
  const config = { ...archived, ...plan.config };
  if (plan.unprivilegedParam === undefined && archived.unprivileged === '1')
    config.unprivileged = '1';
  if (plan.unprivilegedParam === '0') delete config.unprivileged;
  if (plan.unique) {
    for (const key of Object.keys(config).filter((k) => /^net\d+$/.test(k))) {
      const net = parseNetwork(config[key]);
      net.hwaddr = randomMac();
      config[key] = printNetwork(net);
    }
  }
  ctx.log(`restoring '${ostemplate}' now..`);
  const guest = GuestSystem.fromJSON(volume.archive.guest);
  ctx.log('merging backed-up and given configuration..');
  return { config, guest, rootfsSize };
}

/** vzcreate: a fresh guest from the template, with root's authorized keys if given. */
function templateContents(
  ctx: TaskContext,
  plan: CreatePlan,
  storage: NodeStorage | undefined,
  volume: Volume | undefined,
): ContainerContents {
  const { vmid, config, sshKeys } = plan;
  if (!volume || volume.content !== 'vztmpl')
    throw new TaskFailure(`${plan.emsg} can't find file '${plan.ostemplate}'`);
  const path = storage?.pathOf(volume.volname) ?? plan.ostemplate;
  ctx.log(`extracting archive '${path}'`);
  ctx.log(`Total bytes read: 516362240 (493MiB, 245MiB/s)`);
  ctx.log('Detected container architecture: amd64');
  const guest = GuestSystem.fromTemplate(config.hostname ?? `CT${vmid}`);
  if (sshKeys !== undefined) {
    guest.fs.mkdir('/root/.ssh', { parents: true, mode: 0o700 });
    guest.fs.writeFile(
      '/root/.ssh/authorized_keys',
      sshKeys.endsWith('\n') ? sshKeys : `${sshKeys}\n`,
      { mode: 0o600 },
    );
  }
  ctx.log(`Creating SSH host key 'ssh_host_ed25519_key' - this may take some time ...`);
  ctx.log(
    `done: SHA256:${Buffer.from(`${vmid}`).toString('base64')} root@${config.hostname ?? `CT${vmid}`}`,
  );
  return { config: { ...config }, guest, rootfsSize: plan.rootfsSize };
}

/** Allocates the root disk, frees an overwritten guest's disks and snapshots, applies defaults, unlocks. */
function installContainer(
  sim: Simulation,
  node: ClusterNode,
  container: Container,
  existing: Container | undefined,
  contents: ContainerContents,
  plan: CreatePlan,
): void {
  const { vmid } = plan;
  const disk = allocateDisk(
    node.storages.get(plan.rootfsStorage) ?? requireStorage(node, plan.rootfsStorage),
    vmid,
    contents.rootfsSize ?? 4,
    sim.now(),
  );
  if (existing) {
    freeVolumes(node, containerVolumes(existing));
    existing.snapshots = [];
    existing.parent = null;
  }
  const finalConfig = contents.config;
  finalConfig.rootfs = rootfsValue(disk);
  finalConfig.arch ??= 'amd64';
  finalConfig.ostype ??= 'debian';
  finalConfig.hostname ??= `CT${vmid}`;
  finalConfig.memory ??= '512';
  finalConfig.swap ??= '512';
  container.config = finalConfig;
  container.guest = contents.guest;
  contents.guest.fs.writeFile('/etc/hostname', `${finalConfig.hostname}\n`);
  container.lock = null;
  sim.changed();
}

/**
 * POST …/clone as API2::LXC clone_vm runs it: the placement refusals, the
 * source's `disk` lock (set_lock), the target's `create` lock
 * (create_and_lock_config), the checks on what is cloned (both locks undone on a
 * refusal), then a vzclone task that copies the root disk.
 */
async function cloneContainer(
  sim: Simulation,
  req: ApiRequest,
  randomMac: () => string,
): Promise<string> {
  const node = nodeOf(sim, req);
  const newid = Number(req.params.required('newid'));
  const placement = clonePlacement(sim, node, req);
  const source = await lockCloneSource(sim, node, vmidOf(req));
  const clone = await reserveCloneTarget(sim, node, source, newid);
  let plan: ClonePlan;
  try {
    plan = clonePlan(source, req, placement);
  } catch (error) {
    releaseCloneSource(sim, source);
    dropCloneTarget(sim, node, clone);
    throw error;
  }
  clone.config = cloneConfig(plan.sourceConfig, req, randomMac);
  clone.guest = plan.snapshot ? GuestSystem.fromJSON(plan.snapshot.guest) : source.guest.clone();
  sim.changed();
  return spawnCloneTask(sim, req, node, source, clone, plan);
}

/** Where the clone goes: checked before any lock is taken. */
interface ClonePlacement {
  storageId: string | undefined;
  /** Another node, or undefined for this one. */
  target: string | undefined;
}

function clonePlacement(sim: Simulation, node: ClusterNode, req: ApiRequest): ClonePlacement {
  const { cluster } = sim;
  const { params } = req;
  const pool = params.str('pool');
  if (pool !== undefined) throw PveError.die(`pool '${pool}' does not exist`);
  const storageId = params.str('storage');
  let target = params.str('target');
  if (target === node.name || target === 'localhost') target = undefined;
  if (target !== undefined && !cluster.node(target))
    throw PveError.die(`no such cluster node '${target}'`);
  if (storageId !== undefined) {
    requireStorage(node, storageId);
    if (target !== undefined) {
      requireStorage(cluster.node(target) as ClusterNode, storageId);
      if (!node.storages.get(storageId)?.definition.shared)
        throw PveError.die(`can't clone to non-shared storage '${storageId}'`);
    }
  }
  return { storageId, target };
}

/** set_lock: under the source's config file lock, refuses a locked source and sets `disk`. */
function lockCloneSource(sim: Simulation, node: ClusterNode, vmid: number): Promise<Container> {
  return withConfigLock(sim, node.name, vmid, () => {
    const source = loadContainer(sim.cluster, node.name, vmid);
    checkLock(source);
    source.lock = 'disk';
    sim.changed();
    return source;
  });
}

/** create_and_lock_config for the new id: a placeholder guest under the `create` lock. */
async function reserveCloneTarget(
  sim: Simulation,
  node: ClusterNode,
  source: Container,
  newid: number,
): Promise<Container> {
  const { cluster } = sim;
  try {
    return await withConfigLock(
      sim,
      node.name,
      newid,
      () => {
        const taken = vmidInUseMessage(cluster, newid);
        if (taken) throw PveError.die(taken);
        const placeholder = new Container(
          newid,
          node.name,
          {},
          GuestSystem.fromTemplate(`CT${newid}`),
          cluster.allocateAddress(),
          'create',
        );
        cluster.addContainer(placeholder);
        sim.changed();
        return placeholder;
      },
      { timeoutMs: createLockWaitMs(sim) },
    );
  } catch (error) {
    releaseCloneSource(sim, source);
    throw error;
  }
}

function releaseCloneSource(sim: Simulation, source: Container): void {
  if (source.lock === 'disk') source.lock = null;
  sim.changed();
}

function dropCloneTarget(sim: Simulation, node: ClusterNode, clone: Container): void {
  if (sim.cluster.containers.get(clone.vmid) === clone) {
    freeVolumes(node, containerVolumes(clone));
    sim.cluster.removeContainer(clone.vmid);
  }
  sim.changed();
}

/** What the clone copies, decided from the source's config once both locks are held. */
interface ClonePlan {
  full: boolean;
  /** Whether the source ran when the clone was asked; the worker refuses a change. */
  running: boolean;
  snapshot: Snapshot | undefined;
  sourceConfig: ContainerConfig;
  rootVolume: MountPoint | null;
  storageId: string | undefined;
}

function clonePlan(source: Container, req: ApiRequest, placement: ClonePlacement): ClonePlan {
  const { params } = req;
  const { storageId, target } = placement;
  const snapname = params.str('snapname');
  const running = source.status === 'running';
  const full = params.has('full') ? params.bool('full') : !source.isTemplate();
  if (storageId !== undefined && !full)
    throw PveError.die("parameter 'storage' not allowed for linked clones");
  const snapshot =
    snapname === undefined ? undefined : source.snapshots.find((s) => s.name === snapname);
  if (snapname !== undefined && !snapshot)
    throw PveError.die(`snapshot '${snapname}' does not exist`);
  const sourceConfig = snapshot ? snapshot.config : source.config;
  const rootVolume = sourceConfig.rootfs ? parseMountPoint('rootfs', sourceConfig.rootfs) : null;
  if (rootVolume) {
    if (full && running && snapname === undefined)
      throw PveError.die('Full clone of a running container is only possible from a snapshot');
    if (!full && !source.isTemplate() && snapname === undefined)
      throw PveError.die(`Linked clone feature for '${rootVolume.volume}' is not available`);
    if (target !== undefined)
      throw PveError.die(`can't clone CT to node '${target}' (CT uses local storage)`);
  }
  return { full, running, snapshot, sourceConfig, rootVolume, storageId };
}

/** Options a clone does not copy: unused volumes, snapshot and template keys, locks. */
const NOT_CLONED = /^(unused\d+|template|parent|snaptime|lock|rootfs)$/;

/** The new guest's config: the source's with new MACs, `hostname` and `description` as given. */
function cloneConfig(
  sourceConfig: ContainerConfig,
  req: ApiRequest,
  randomMac: () => string,
): ContainerConfig {
  const config: ContainerConfig = {};
  for (const [key, value] of Object.entries(sourceConfig)) {
    if (NOT_CLONED.test(key)) continue;
    if (/^net\d+$/.test(key)) {
      const net = parseNetwork(value);
      net.hwaddr = randomMac();
      config[key] = printNetwork(net);
    } else {
      config[key] = value;
    }
  }
  const hostname = req.params.str('hostname');
  if (hostname) config.hostname = hostname;
  const description = req.params.str('description');
  if (description) config.description = description;
  return config;
}

/** The vzclone worker: a full copy or a thin clone of the root disk, then both locks cleared. */
function spawnCloneTask(
  sim: Simulation,
  req: ApiRequest,
  node: ClusterNode,
  source: Container,
  clone: Container,
  plan: ClonePlan,
): string {
  const { full, rootVolume } = plan;
  return sim.tasks.spawn({
    node: node.name,
    type: 'vzclone',
    id: String(source.vmid),
    user: req.principal.userid,
    injectedFailure: req.failTask,
    startLines: [
      `create ${full ? 'full' : 'linked'} clone of mountpoint rootfs (${rootVolume?.volume ?? 'none'})`,
    ],
    run: (ctx) => {
      ctx.log(`creating a clone of container ${source.vmid} with ID ${clone.vmid}`);
      if ((source.status === 'running') !== plan.running)
        throw new TaskFailure('clone failed: unexpected state change');
      if (rootVolume) cloneRootDisk(sim, ctx, node, clone, plan, rootVolume);
      clone.guest.fs.writeFile('/etc/hostname', `${clone.hostname()}\n`);
      source.lock = null;
      clone.lock = null;
      sim.changed();
    },
    onFailure: () => {
      releaseCloneSource(sim, source);
      dropCloneTarget(sim, node, clone);
    },
  });
}

function cloneRootDisk(
  sim: Simulation,
  ctx: TaskContext,
  node: ClusterNode,
  clone: Container,
  plan: ClonePlan,
  rootVolume: MountPoint,
): void {
  const sourceStorage = parseVolumeId(rootVolume.volume)?.storage ?? 'local-lvm';
  const storageId = plan.storageId ?? sourceStorage;
  const targetStorage = node.storages.get(storageId) ?? requireStorage(node, storageId);
  const sizeGiB = rootVolume.size
    ? Math.max(1, Math.round(Number(/^(\d+)/.exec(rootVolume.size)?.[1] ?? 4)))
    : 4;
  const disk = allocateDisk(targetStorage, clone.vmid, sizeGiB, sim.now());
  clone.config.rootfs = rootfsValue(disk);
  ctx.log(
    plan.full
      ? `Logical volume "${disk.volname}" created.`
      : `Logical volume "${disk.volname}" created (thin snapshot).`,
  );
}
