import { Cluster } from '../state/cluster';
import { Container } from '../state/container';
import { NODE_MAXCPU, NODE_MAXMEM, NODE_ROOT_DISK, nodeUsage } from './node-usage';

/** A guest's `pve-vm-9.0/<vmid>` RRD row as pvestatd's update_lxc_status broadcasts it. */
export interface GuestSample {
  uptime: number;
  name: string;
  status: 'running' | 'stopped';
  template: number;
  maxcpu: number;
  cpu: number;
  maxmem: number;
  mem: number;
  maxdisk: number;
  disk: number;
  netin: number;
  netout: number;
  diskread: number;
  diskwrite: number;
  /** pvestatd leaves this column empty for containers: extract_vm_stats makes it 0. */
  memhost: number;
}

/** A node's `pve-node-9.0/<node>` row, the columns extract_node_stats reads. */
export interface NodeSample {
  uptime: number;
  level: string;
  maxcpu: number;
  cpu: number;
  maxmem: number;
  mem: number;
  maxdisk: number;
  disk: number;
}

/** A storage's `pve-storage-9.0/<node>/<storage>` row. */
export interface StorageSample {
  maxdisk: number;
  disk: number;
}

/** pmxcfs drops RRD rows nobody updated for five minutes (status.c, rrd_entry_is_old). */
const RRD_EXPIRY_MS = 5 * 60_000;

interface Stamped<T> {
  sample: T;
  time: number;
}

/**
 * pvestatd and the RRD data pmxcfs keeps from it: every `statsIntervalMs` each
 * node writes its own, its guests' and its storages' figures, and
 * `/cluster/resources` and `/nodes` answer from the last write. Which guests
 * exist comes from the cluster file system at once; their status, name and
 * figures only with the next tick. A row outlives its guest until it expires,
 * so a VMID created again within five minutes first shows the old guest's row.
 */
export class Pvestatd {
  private readonly guests = new Map<number, Stamped<GuestSample>>();
  private readonly nodes = new Map<string, Stamped<NodeSample>>();
  private readonly storages = new Map<string, Stamped<StorageSample>>();
  /** Bumped by every tick, so that answers built from the samples can be cached. */
  generation = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly intervalMs: () => number,
  ) {}

  guest(vmid: number): GuestSample | undefined {
    return this.guests.get(vmid)?.sample;
  }

  node(name: string): NodeSample | undefined {
    return this.nodes.get(name)?.sample;
  }

  storage(node: string, storage: string): StorageSample | undefined {
    return this.storages.get(`${node}/${storage}`)?.sample;
  }

  /** Samples now and every interval from here on (a restarted pvestatd starts with an update). */
  start(): void {
    this.tick();
    this.reschedule();
  }

  /** The next tick one interval from now (after the interval changed). */
  reschedule(): void {
    this.stop();
    this.timer = setInterval(() => this.tick(), this.intervalMs());
    // Monitoring alone must not keep a process alive that has nothing else to do.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Forgets every row (a reset cluster has no history) and starts over. */
  restart(): void {
    this.guests.clear();
    this.nodes.clear();
    this.storages.clear();
    this.start();
  }

  private tick(): void {
    const now = this.cluster.now();
    for (const container of this.cluster.containers.values())
      this.guests.set(container.vmid, { sample: guestSample(container, now), time: now });
    for (const node of this.cluster.nodes.values()) {
      const usage = nodeUsage(this.cluster, node);
      this.nodes.set(node.name, {
        sample: {
          uptime: usage.uptime,
          level: '',
          maxcpu: NODE_MAXCPU,
          cpu: usage.cpu,
          maxmem: NODE_MAXMEM,
          mem: usage.mem,
          maxdisk: NODE_ROOT_DISK,
          disk: Math.round(usage.disk),
        },
        time: now,
      });
      for (const storage of node.storages.values())
        this.storages.set(`${node.name}/${storage.id}`, {
          sample: { maxdisk: storage.definition.total, disk: storage.used() },
          time: now,
        });
    }
    dropExpired(this.guests, now);
    dropExpired(this.nodes, now);
    dropExpired(this.storages, now);
    this.generation++;
  }
}

function dropExpired<K>(rows: Map<K, Stamped<unknown>>, now: number): void {
  for (const [key, row] of rows) if (now - row.time > RRD_EXPIRY_MS) rows.delete(key);
}

function guestSample(container: Container, now: number): GuestSample {
  const running = container.status === 'running';
  return {
    uptime: container.uptime(now),
    name: container.hostname(),
    status: container.status,
    template: container.isTemplate() ? 1 : 0,
    maxcpu: container.cores() || NODE_MAXCPU,
    cpu: running ? 0.0021 : 0,
    maxmem: container.maxmem(),
    mem: running ? Math.round(container.maxmem() / 8) : 0,
    maxdisk: container.maxdisk(),
    disk: running ? Math.round(container.maxdisk() / 10) : 0,
    netin: 0,
    netout: 0,
    diskread: 0,
    diskwrite: 0,
    memhost: 0,
  };
}
