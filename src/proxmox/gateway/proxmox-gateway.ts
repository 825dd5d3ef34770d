import type { ProxmoxConnection } from './proxmox-connection';

export interface ProxmoxVersion {
  version: string;
  release: string;
}

export interface ClusterNode {
  name: string;
  online: boolean;
  cpus: number;
  memoryTotal: number;
  memoryFree: number;
  diskFree: number;
}

export interface TaskWait {
  /** Absolute budget for the whole wait, in ms. */
  deadlineMs: number;
  pollMs?: number;
}

/** Where a container lives: a validated node name and VMID (both become URL path segments). */
export interface ContainerRef {
  node: string;
  vmid: number;
}

/** A new unprivileged container; `password` goes in the request body only, never in a path or log. */
export interface ContainerSpec extends ContainerRef {
  hostname: string;
  /** Volume id of the OS template, e.g. `local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst`. */
  template: string;
  /** Storage of the root disk. */
  storage: string;
  diskGb: number;
  bridge: string;
  cores: number;
  memoryMb: number;
  swapMb: number;
  password: string;
  /** Proxmox `features` property string, e.g. `nesting=1,keyctl=1`; applied at the first start. */
  features: string;
  tags: readonly string[];
  description: string;
}

/** `status/current` as Proximity reads it: the live state, never the lagging cluster view. */
export interface ContainerStatus {
  status: 'running' | 'stopped' | 'unknown';
  /** The config lock (`create`, `backup`, …) or null. */
  lock: string | null;
  cpus: number;
  /** Fraction of `cpus` in use, 0..1 per CPU as Proxmox reports it. */
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  diskUsed: number;
  diskTotal: number;
  uptimeSeconds: number;
  /** Bytes received and sent by the container's interfaces since it started. */
  netIn: number;
  netOut: number;
}

export interface NetworkInterface {
  name: string;
  /** IPv4 addresses without prefix length. */
  ipv4: string[];
}

/** A full clone of a container on its own node. */
export interface CloneSpec {
  /** A free VMID for the new container. */
  newVmid: number;
  hostname: string;
  /** Storage of the new root disk. */
  storage: string;
  /** Clone from this snapshot (required when the source runs), else from the current state. */
  snapshot: string | null;
  description: string;
}

export interface ClusterGuest {
  vmid: number;
  node: string;
  type: 'lxc' | 'qemu';
}

// --- adopt ---
/**
 * A container as `/cluster/resources` lists it: lagging, so for listing only,
 * never for a step. A guest the statistics have not sampled yet has status
 * `unknown` and no name or resources (null).
 */
export interface ClusterContainer {
  vmid: number;
  node: string;
  hostname: string | null;
  status: 'running' | 'stopped' | 'unknown';
  cores: number | null;
  memoryBytes: number | null;
  diskBytes: number | null;
}

// --- reconciler ---
/** A guest of the cluster listing with the marks the reconciler looks at. */
export interface TaggedGuest extends ClusterGuest {
  /** Lower-cased, as Proxmox stores them. */
  tags: string[];
  /** The config lock (`create`, `backup`, …) or null. */
  lock: string | null;
}

// --- backups ---
export type BackupMode = 'snapshot' | 'suspend' | 'stop';
export type BackupCompression = 'zstd' | 'gzip' | 'lzo';

/** One guest's vzdump to a backup storage. */
export interface BackupSpec extends ContainerRef {
  storage: string;
  mode: BackupMode;
  compress: BackupCompression;
  /** How long the task may wait for the node's vzdump lock (Proxmox's default: 180). */
  lockWaitMinutes?: number;
}

/** A backup archive on a storage, from its content list. */
export interface BackupVolume {
  volid: string;
  size: number;
  /** Creation time, seconds since the epoch. */
  ctime: number;
}

/** A restore over the container's own VMID (it must be stopped), onto the container storage. */
export interface RestoreSpec extends ContainerRef {
  /** Volume id of the backup archive. */
  archive: string;
  storage: string;
}

/**
 * Everything Proximity asks of a Proxmox VE cluster. Callers depend on this
 * port; the adapter speaks HTTPS (in tests, to the simulator over the network).
 * Writes that are Proxmox tasks return the UPID: await it with `waitForTask`.
 */
export abstract class ProxmoxGateway {
  abstract version(connection: ProxmoxConnection): Promise<ProxmoxVersion>;

  abstract listNodes(connection: ProxmoxConnection): Promise<ClusterNode[]>;

  /**
   * The address each node's name resolves to in the cluster (`ip` of
   * `/cluster/status`), by node name; a node Proxmox gives no address is absent.
   */
  abstract nodeAddresses(connection: ProxmoxConnection): Promise<Map<string, string>>;

  /**
   * Resolves when the task ends OK; throws TaskFailed (with the log tail and
   * the exit status's reason) or Timeout. Polls the node named in the UPID:
   * only that node knows the task.
   */
  abstract waitForTask(connection: ProxmoxConnection, upid: string, wait: TaskWait): Promise<void>;

  /** Creates without starting (a create with `start=1` ends before the container runs). */
  abstract createContainer(connection: ProxmoxConnection, spec: ContainerSpec): Promise<string>;

  abstract startContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string>;

  /** A clean shutdown; the task fails when the container is still up after `timeoutSeconds`. */
  abstract shutdownContainer(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    timeoutSeconds: number,
  ): Promise<string>;

  /** A hard stop. */
  abstract stopContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string>;

  /** Destroys a stopped container with its disks, and removes it from jobs, HA and replication. */
  abstract destroyContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string>;

  abstract containerStatus(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<ContainerStatus>;

  /** The container's interfaces; null while it does not run. */
  abstract containerInterfaces(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<NetworkInterface[] | null>;

  /** The flat config (`hostname`, `features`, `tags`, `description`, …). */
  abstract containerConfig(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<Record<string, string>>;

  /**
   * Every guest of the cluster (containers and VMs), from `/cluster/resources`:
   * for picking a free VMID, never for confirming a step (it lags).
   */
  abstract listClusterGuests(connection: ProxmoxConnection): Promise<ClusterGuest[]>;

  // --- adopt ---
  /** Every container of the cluster with its resources, in one `/cluster/resources` read. */
  abstract listClusterContainers(connection: ProxmoxConnection): Promise<ClusterContainer[]>;

  // --- reconciler ---
  /**
   * Every guest of the cluster with its tags and lock, from
   * `/cluster/resources` (the cluster file system's list: a destroyed guest
   * leaves it at once).
   */
  abstract listTaggedGuests(connection: ProxmoxConnection): Promise<TaggedGuest[]>;

  // --- clone ---

  /** Takes a snapshot (a task); a running container is frozen for it. */
  abstract createSnapshot(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    name: string,
  ): Promise<string>;

  /** Deletes a snapshot (a task); fails while the container holds any lock. */
  abstract deleteSnapshot(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    name: string,
  ): Promise<string>;

  /** The names of the container's snapshots (without `current`). */
  abstract listSnapshots(connection: ProxmoxConnection, ref: ContainerRef): Promise<string[]>;

  /**
   * A full clone (a task): the source holds lock `disk` and the new container
   * lock `create` until it ends. The new container copies the source's config
   * (tags included) with `hostname` and `description` replaced.
   */
  abstract cloneContainer(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    spec: CloneSpec,
  ): Promise<string>;

  /** Replaces the container's tags and description (not a task). */
  abstract setContainerLabels(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    labels: { tags: readonly string[]; description: string },
  ): Promise<void>;

  // --- backups ---
  /** Starts a vzdump of one guest on its node; the task waits for the node's vzdump lock. */
  abstract vzdump(connection: ProxmoxConnection, spec: BackupSpec): Promise<string>;

  /** The task's log lines from line `start` (0-based) on, as Proxmox wrote them. */
  abstract taskLog(connection: ProxmoxConnection, upid: string, start?: number): Promise<string[]>;

  /** The backup archives of one guest on a storage of `node`. */
  abstract listBackups(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    storage: string,
  ): Promise<BackupVolume[]>;

  /** Removes a volume (a task); NotFound when it does not exist. */
  abstract deleteVolume(
    connection: ProxmoxConnection,
    node: string,
    volid: string,
  ): Promise<string>;

  /** Restores an archive over the (stopped) container with `force`. */
  abstract restoreContainer(connection: ProxmoxConnection, spec: RestoreSpec): Promise<string>;
}
