import { randomInt } from 'node:crypto';
import { NftRuleset, NftTable } from '../network/nftables';
import { SeededRandom } from '../util/seeded-random';
import { Container, SerializedContainer } from './container';
import { DEFAULT_STORAGES, DEFAULT_TEMPLATE, NodeStorage, templateVolume, Volume } from './storage';
import { SerializedFs, VirtualFs } from './virtual-fs';

const NODE_DIRECTORIES = [
  '/root',
  '/tmp',
  '/etc/pve',
  '/var/lib/vz/dump',
  '/var/lib/vz/template/cache',
];

/** One Proxmox VE node: its storages, its firewall ruleset and its own files (for `pct push`). */
export class ClusterNode {
  readonly storages = new Map<string, NodeStorage>();
  nft = new NftRuleset();
  fs = VirtualFs.withDirectories(NODE_DIRECTORIES);
  readonly sysctl = new Map<string, string>([['net.ipv4.ip_forward', '0']]);

  constructor(
    readonly name: string,
    /** Unix ms when the node booted, for uptimes and task `pstart`. */
    readonly bootTime: number,
  ) {
    for (const definition of DEFAULT_STORAGES)
      this.storages.set(definition.id, new NodeStorage(definition));
  }

  /** Jiffies since boot, as /proc/<pid>/stat counts them (what UPIDs carry as pstart). */
  ticksSinceBoot(now: number): number {
    return Math.floor((now - this.bootTime) / 10);
  }

  resetDisks(now: number): void {
    for (const storage of this.storages.values()) storage.volumes.clear();
    this.storages
      .get('local')
      ?.add(templateVolume('local', DEFAULT_TEMPLATE, Math.floor(now / 1000) - 86_400 * 30));
    this.nft = new NftRuleset();
    this.fs = VirtualFs.withDirectories(NODE_DIRECTORIES);
    this.sysctl.set('net.ipv4.ip_forward', '0');
  }
}

/**
 * Leases in 127.77.0.0/16, lowest free first from a block chosen per
 * simulator instance (claimed by `claimAddressBlock`, so that simulators
 * running side by side do not hand out the same address), kept for a
 * container's whole life like a DHCP lease.
 */
class AddressPool {
  private readonly used = new Set<string>();
  firstBlock = randomInt(0, 256);

  allocate(): string {
    for (let i = 0; i < 256; i++) {
      const high = (this.firstBlock + i) % 256;
      for (let low = 1; low < 255; low++) {
        const address = `127.77.${high}.${low}`;
        if (!this.used.has(address)) {
          this.used.add(address);
          return address;
        }
      }
    }
    throw new Error('no free address left in 127.77.0.0/16');
  }

  claim(address: string): void {
    this.used.add(address);
  }

  release(address: string): void {
    this.used.delete(address);
  }

  clear(): void {
    this.used.clear();
  }
}

export interface SerializedCluster {
  containers: SerializedContainer[];
  nodes: Array<{
    name: string;
    volumes: Record<string, Volume[]>;
    nft: { tables: NftTable[]; nextTableHandle: number };
    fs: SerializedFs;
  }>;
}

/** The whole cluster's state; every mutation bumps `version` (for response caching and persistence). */
export class Cluster {
  readonly nodes = new Map<string, ClusterNode>();
  readonly containers = new Map<number, Container>();
  private readonly addresses = new AddressPool();
  version = 0;

  constructor(
    nodeNames: readonly string[],
    readonly random: SeededRandom,
    private readonly clock: () => number,
  ) {
    const now = clock();
    for (const name of nodeNames) {
      const node = new ClusterNode(
        name,
        now - random.int(2, 40) * 86_400_000 - random.int(0, 86_400_000),
      );
      node.resetDisks(now);
      this.nodes.set(name, node);
    }
  }

  now(): number {
    return this.clock();
  }

  touch(): void {
    this.version++;
  }

  reset(): void {
    for (const container of this.containers.values()) this.addresses.release(container.ipLease);
    this.containers.clear();
    this.addresses.clear();
    for (const node of this.nodes.values()) node.resetDisks(this.clock());
    this.touch();
  }

  node(name: string): ClusterNode | undefined {
    return this.nodes.get(name);
  }

  /** The container with that VMID if its config lives on that node. */
  containerOn(node: string, vmid: number): Container | undefined {
    const container = this.containers.get(vmid);
    return container?.node === node ? container : undefined;
  }

  /** Leases start in this /24 of 127.77.0.0/16 (one this simulator claimed). */
  leaseFromBlock(block: number): void {
    this.addresses.firstBlock = block;
  }

  allocateAddress(): string {
    return this.addresses.allocate();
  }

  addContainer(container: Container): void {
    this.containers.set(container.vmid, container);
    this.addresses.claim(container.ipLease);
    this.touch();
  }

  removeContainer(vmid: number): void {
    const container = this.containers.get(vmid);
    if (!container) return;
    this.containers.delete(vmid);
    this.addresses.release(container.ipLease);
    this.touch();
  }

  /** The lowest VMID ≥ 100 that no guest uses. */
  nextFreeVmid(): number | undefined {
    for (let vmid = 100; vmid < 1_000_000; vmid++) if (!this.containers.has(vmid)) return vmid;
    return undefined;
  }

  /** A MAC address in Proxmox's OUI (BC:24:11), like PVE's random_ether_addr. */
  randomMac(): string {
    return `BC:24:11:${this.random.hexByte()}:${this.random.hexByte()}:${this.random.hexByte()}`;
  }

  toJSON(): SerializedCluster {
    return {
      containers: [...this.containers.values()].map((container) => container.toJSON()),
      nodes: [...this.nodes.values()].map((node) => ({
        name: node.name,
        volumes: Object.fromEntries(
          [...node.storages.values()].map((storage) => [storage.id, [...storage.volumes.values()]]),
        ),
        nft: node.nft.toJSON(),
        fs: node.fs.toJSON(),
      })),
    };
  }

  /** Restores a saved state into this cluster (nodes that no longer exist are skipped). */
  load(data: SerializedCluster): void {
    this.reset();
    for (const saved of data.nodes) {
      const node = this.nodes.get(saved.name);
      if (!node) continue;
      for (const [storageId, volumes] of Object.entries(saved.volumes)) {
        const storage = node.storages.get(storageId);
        if (!storage) continue;
        storage.volumes.clear();
        for (const volume of volumes) storage.add(volume);
      }
      node.nft = NftRuleset.fromJSON(saved.nft);
      node.fs = VirtualFs.fromJSON(saved.fs);
    }
    for (const saved of data.containers) {
      if (!this.nodes.has(saved.node)) continue;
      const container = Container.fromJSON(saved);
      if (container.lock === 'create' || container.lock === 'destroyed') continue;
      container.lock = null;
      this.addContainer(container);
    }
    this.touch();
  }
}
