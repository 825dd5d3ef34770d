import { GuestSystem, SerializedGuest } from '../guest/guest-system';
import {
  configDigest,
  ContainerConfig,
  noPendingChanges,
  parseFeatures,
  parseMountPoint,
  parseSizeBytes,
  PendingChanges,
  tagList,
} from './container-config';

export type ContainerStatus = 'running' | 'stopped';

/** Config locks as pve-container sets them (`lock:` in the config file). */
export type LockName =
  | 'backup'
  | 'create'
  | 'destroyed'
  | 'disk'
  | 'fstrim'
  | 'migrate'
  | 'mounted'
  | 'rollback'
  | 'snapshot'
  | 'snapshot-delete';

export interface Snapshot {
  name: string;
  description: string;
  snaptime: number;
  parent: string | null;
  config: ContainerConfig;
  guest: SerializedGuest;
}

export interface SerializedContainer {
  vmid: number;
  node: string;
  config: ContainerConfig;
  lock: LockName | null;
  status: ContainerStatus;
  startedAt: number | null;
  snapshots: Snapshot[];
  parent: string | null;
  guest: SerializedGuest;
  ipLease: string;
  /** Absent in state files written before pending changes existed. */
  pending?: PendingChanges;
}

export class Container {
  constructor(
    readonly vmid: number,
    public node: string,
    public config: ContainerConfig,
    public guest: GuestSystem,
    readonly ipLease: string,
    public lock: LockName | null = null,
    public status: ContainerStatus = 'stopped',
    public startedAt: number | null = null,
    public snapshots: Snapshot[] = [],
    public parent: string | null = null,
    public pending: PendingChanges = noPendingChanges(),
  ) {}

  hostname(): string {
    return (this.config.hostname ?? `CT${this.vmid}`).replace(/\s/g, '');
  }

  tags(): string[] {
    return tagList(this.config);
  }

  isTemplate(): boolean {
    return this.config.template === '1';
  }

  hasNetwork(): boolean {
    return Object.keys(this.config).some((key) => /^net\d+$/.test(key));
  }

  /** Its address while it runs with a network interface. */
  ip(): string | null {
    return this.status === 'running' && this.hasNetwork() ? this.ipLease : null;
  }

  /** Docker inside an unprivileged container needs nesting. */
  nestingAllowed(): boolean {
    if (this.config.unprivileged !== '1') return true;
    return parseFeatures(this.config.features).nesting === '1';
  }

  cores(): number {
    return Number(this.config.cores ?? 0);
  }

  maxmem(): number {
    return Number(this.config.memory ?? 512) * 1024 * 1024;
  }

  maxswap(): number {
    return Number(this.config.swap ?? 0) * 1024 * 1024;
  }

  maxdisk(): number {
    if (!this.config.rootfs) return 4 * 1024 ** 3;
    try {
      const size = parseMountPoint('rootfs', this.config.rootfs).size;
      return size ? parseSizeBytes(size) : 4 * 1024 ** 3;
    } catch {
      return 4 * 1024 ** 3;
    }
  }

  uptime(now: number): number {
    return this.status === 'running' && this.startedAt !== null
      ? Math.floor((now - this.startedAt) / 1000)
      : 0;
  }

  digest(): string {
    return configDigest(this.config, this.lock, this.pending);
  }

  /** The options with a pending value or a pending delete, sorted. */
  pendingKeys(): string[] {
    return [...new Set([...Object.keys(this.pending.values), ...this.pending.delete])].sort();
  }

  toJSON(): SerializedContainer {
    return {
      vmid: this.vmid,
      node: this.node,
      config: { ...this.config },
      lock: this.lock,
      status: this.status,
      startedAt: this.startedAt,
      snapshots: this.snapshots.map((s) => ({ ...s, config: { ...s.config } })),
      parent: this.parent,
      guest: this.guest.toJSON(),
      ipLease: this.ipLease,
      pending: { values: { ...this.pending.values }, delete: [...this.pending.delete] },
    };
  }

  static fromJSON(data: SerializedContainer): Container {
    return new Container(
      data.vmid,
      data.node,
      { ...data.config },
      GuestSystem.fromJSON(data.guest),
      data.ipLease,
      data.lock,
      data.status,
      data.startedAt,
      data.snapshots.map((s) => ({ ...s, config: { ...s.config } })),
      data.parent,
      data.pending
        ? { values: { ...data.pending.values }, delete: [...data.pending.delete] }
        : noPendingChanges(),
    );
  }
}
