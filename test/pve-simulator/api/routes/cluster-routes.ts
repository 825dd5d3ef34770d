import { gzipSync } from 'node:zlib';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { NODE_MAXCPU, NODE_MAXMEM, NODE_ROOT_DISK, nodeUsage } from '../../monitoring/node-usage';
import { ClusterNode } from '../../state/cluster';
import { Container } from '../../state/container';
import { Router } from '../router';

export const PVE_VERSION = { version: '9.2.11', release: '9.2', repoid: '14a22df3' };
const KERNEL = '6.8.12-4-pve';

/** A complete response body, built once and served many times (see cluster/resources). */
export class PreSerialized {
  private gzipped: Buffer | null = null;

  constructor(readonly body: Buffer) {}

  gzip(): Buffer {
    this.gzipped ??= gzipSync(this.body);
    return this.gzipped;
  }
}

/** A node's row in `/nodes` and `/cluster/resources`: pvestatd's last sample (extract_node_stats). */
function nodeRow(sim: Simulation, name: string): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: `node/${name}`,
    type: 'node',
    node: name,
    status: 'unknown',
  };
  const sample = sim.pvestatd.node(name);
  if (sample) Object.assign(row, sample, { status: 'online' });
  return row;
}

/**
 * A guest's row: which guests exist, where, their lock, tags and pool come from
 * the cluster file system at once; status, name and figures from the last
 * pvestatd sample (extract_vm_stats), `unknown` until there is one.
 */
function guestRow(sim: Simulation, container: Container): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: `lxc/${container.vmid}`,
    vmid: container.vmid,
    node: container.node,
    type: 'lxc',
    status: 'unknown',
  };
  const sample = sim.pvestatd.guest(container.vmid);
  if (sample) Object.assign(row, sample);
  if (container.config.pool) row.pool = container.config.pool;
  if (container.lock) row.lock = container.lock;
  if (container.config.tags) row.tags = container.config.tags;
  return row;
}

function storageRows(sim: Simulation): Record<string, unknown>[] {
  const ids = new Set<string>();
  for (const node of sim.cluster.nodes.values()) for (const id of node.storages.keys()) ids.add(id);
  const rows: Record<string, unknown>[] = [];
  for (const id of [...ids].sort()) {
    for (const node of sim.cluster.nodes.values()) {
      const storage = node.storages.get(id);
      if (!storage) continue;
      const row: Record<string, unknown> = {
        id: `storage/${node.name}/${id}`,
        storage: id,
        node: node.name,
        type: 'storage',
        plugintype: storage.definition.type,
        status: 'unknown',
        shared: storage.definition.shared ? 1 : 0,
        content: storage.contentString(),
      };
      const sample = sim.pvestatd.storage(node.name, id);
      if (sample) Object.assign(row, sample, { status: 'available' });
      rows.push(row);
    }
  }
  return rows;
}

/** The `/cluster/resources` list in pve-manager's order: guests, nodes, storages, networks. */
function clusterResources(sim: Simulation, type: string): unknown[] {
  const items: unknown[] = [];
  if (type === '' || type === 'vm') {
    // `sort keys` on the vmlist: VMIDs in string order (1000 before 101).
    const guests = [...sim.cluster.containers.values()].sort((a, b) =>
      String(a.vmid) < String(b.vmid) ? -1 : 1,
    );
    for (const container of guests) items.push(guestRow(sim, container));
  }
  if (type === '' || type === 'node') {
    for (const node of sim.cluster.nodes.keys())
      items.push({ ...nodeRow(sim, node), 'cgroup-mode': 2 });
  }
  if (type === '' || type === 'storage') items.push(...storageRows(sim));
  // 9.2 nodes publish `network` rows; pve-manager then skips their `sdn` rows, so
  // `type=sdn` lists nothing, and `network` is not a filter the parameter accepts.
  if (type === '') {
    for (const node of sim.cluster.nodes.keys())
      items.push({
        id: `network/${node}/zone/localnetwork`,
        type: 'network',
        'network-type': 'zone',
        network: 'localnetwork',
        node,
        status: 'ok',
      });
  }
  return items;
}

/** What the cluster routes know of the nodes beyond the simulation. */
export interface NodeIdentity {
  tlsFingerprint: string;
  /** The address a node's name resolves to (its `ip` in /cluster/status). */
  nodeAddress(node: string): string;
}

/**
 * `/cluster/status` as pve-cluster answers it: a `cluster` entry first when
 * there is more than one node (a stand-alone node has none), then one entry
 * per node with its corosync id, the address its name resolves to, and
 * `local` set on the node that answers (the API endpoint, the first node).
 */
function clusterStatus(sim: Simulation, identity: NodeIdentity): Record<string, unknown>[] {
  const names = [...sim.cluster.nodes.keys()];
  const nodes = names.map((name, index) => ({
    id: `node/${name}`,
    type: 'node',
    name,
    nodeid: index + 1,
    ip: identity.nodeAddress(name),
    local: index === 0 ? 1 : 0,
    online: 1,
    level: '',
  }));
  if (names.length === 1) return [{ ...nodes[0], nodeid: 0 }];
  return [
    {
      id: 'cluster',
      type: 'cluster',
      name: 'pve-sim',
      nodes: names.length,
      quorate: 1,
      version: names.length,
    },
    ...nodes,
  ];
}

export function registerClusterRoutes(
  router: Router,
  sim: Simulation,
  identity: NodeIdentity,
): void {
  router.add('GET', '/', () =>
    ['version', 'cluster', 'nodes', 'storage', 'access', 'pools'].map((subdir) => ({ subdir })),
  );

  router.add('GET', '/version', () => ({ ...PVE_VERSION }));

  router.add('GET', '/nodes', () =>
    [...sim.cluster.nodes.keys()].map((node) => ({
      ...nodeRow(sim, node),
      ssl_fingerprint: identity.tlsFingerprint,
    })),
  );

  router.add('GET', '/nodes/{node}', () =>
    [
      'apt',
      'capabilities',
      'ceph',
      'certificates',
      'config',
      'disks',
      'dns',
      'firewall',
      'hosts',
      'lxc',
      'network',
      'qemu',
      'status',
      'storage',
      'syslog',
      'tasks',
      'time',
      'version',
      'vzdump',
    ].map((name) => ({ name })),
  );

  router.add('GET', '/nodes/{node}/status', (req) => {
    const node = sim.cluster.node(req.params.required('node')) as ClusterNode;
    const usage = nodeUsage(sim.cluster, node);
    const rootUsed = Math.round(usage.disk);
    return {
      uptime: usage.uptime,
      cpu: usage.cpu,
      wait: 0.0004,
      idle: 0,
      loadavg: ['0.08', '0.05', '0.01'],
      cpuinfo: {
        cpus: NODE_MAXCPU,
        cores: NODE_MAXCPU,
        sockets: 1,
        model: 'Intel(R) Xeon(R) CPU E-2278G @ 3.40GHz',
        mhz: '3400.000',
        hvm: '1',
        user_hz: 100,
        flags: 'fpu vme de pse tsc msr pae mce cx8 apic sep',
      },
      memory: {
        total: NODE_MAXMEM,
        used: usage.mem,
        free: NODE_MAXMEM - usage.mem,
        available: NODE_MAXMEM - usage.mem,
      },
      swap: { total: 8 * 1024 ** 3, used: 0, free: 8 * 1024 ** 3 },
      rootfs: {
        total: NODE_ROOT_DISK,
        used: rootUsed,
        free: NODE_ROOT_DISK - rootUsed,
        avail: NODE_ROOT_DISK - rootUsed,
      },
      ksm: { shared: 0 },
      kversion: `Linux ${KERNEL} #1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)`,
      pveversion: `pve-manager/${PVE_VERSION.version}/${PVE_VERSION.repoid}`,
      'boot-info': { mode: 'efi', secureboot: 0 },
      'current-kernel': {
        sysname: 'Linux',
        release: KERNEL,
        version: '#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-4 (2024-11-06T15:04Z)',
        machine: 'x86_64',
      },
    };
  });

  router.add('GET', '/cluster/status', () => clusterStatus(sim, identity));

  router.add('GET', '/cluster/nextid', (req) => {
    const vmid = req.params.str('vmid');
    if (vmid !== undefined) {
      if (sim.cluster.containers.has(Number(vmid)))
        throw PveError.param({ vmid: `VM ${vmid} already exists` });
      return vmid;
    }
    const next = sim.cluster.nextFreeVmid();
    if (next === undefined)
      throw PveError.die('unable to get any free VMID in range [100, 1000000]');
    return String(next);
  });

  /**
   * The listing is rebuilt at most once per cluster change or pvestatd tick,
   * which is what lets it serve thousands of requests per second over 1,000 guests.
   */
  const cache = new Map<string, { version: number; generation: number; body: PreSerialized }>();
  router.add('GET', '/cluster/resources', (req) => {
    const type = req.params.str('type') ?? '';
    const version = sim.cluster.version;
    const generation = sim.pvestatd.generation;
    const cached = cache.get(type);
    if (cached && cached.version === version && cached.generation === generation)
      return cached.body;
    const body = new PreSerialized(
      Buffer.from(JSON.stringify({ data: clusterResources(sim, type) })),
    );
    cache.set(type, { version, generation, body });
    return body;
  });
}
