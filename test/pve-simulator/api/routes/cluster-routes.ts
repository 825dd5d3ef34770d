import { gzipSync } from 'node:zlib';
import { PveError } from '../../pve/pve-error';
import { Simulation } from '../../simulation';
import { ClusterNode } from '../../state/cluster';
import { Router } from '../router';

export const PVE_VERSION = { version: '9.2.11', release: '9.2', repoid: '14a22df3' };
const KERNEL = '6.8.12-4-pve';
const NODE_MAXCPU = 8;
const NODE_MAXMEM = 32 * 1024 ** 3;
const NODE_ROOT_DISK = 96 * 1024 ** 3;

/** A complete response body, built once and served many times (see cluster/resources). */
export class PreSerialized {
  private gzipped: Buffer | null = null;

  constructor(readonly body: Buffer) {}

  gzip(): Buffer {
    this.gzipped ??= gzipSync(this.body);
    return this.gzipped;
  }
}

function nodeUsage(
  sim: Simulation,
  node: ClusterNode,
): { cpu: number; mem: number; disk: number; uptime: number } {
  let running = 0;
  let mem = 2.1 * 1024 ** 3;
  for (const container of sim.cluster.containers.values()) {
    if (container.node !== node.name || container.status !== 'running') continue;
    running++;
    mem += container.maxmem() / 4;
  }
  const local = node.storages.get('local');
  return {
    cpu: Math.min(0.95, Number((0.012 + running * 0.003).toFixed(6))),
    mem: Math.min(Math.round(mem), NODE_MAXMEM),
    disk: 6.4 * 1024 ** 3 + (local?.used() ?? 0),
    uptime: Math.floor((sim.now() - node.bootTime) / 1000),
  };
}

/** The fields `/nodes` and `/cluster/resources` share for a node. */
function nodeStatus(sim: Simulation, node: ClusterNode): Record<string, unknown> {
  const usage = nodeUsage(sim, node);
  return {
    id: `node/${node.name}`,
    type: 'node',
    node: node.name,
    status: 'online',
    cpu: usage.cpu,
    maxcpu: NODE_MAXCPU,
    mem: usage.mem,
    maxmem: NODE_MAXMEM,
    disk: Math.round(usage.disk),
    maxdisk: NODE_ROOT_DISK,
    uptime: usage.uptime,
    level: '',
  };
}

export function registerClusterRoutes(
  router: Router,
  sim: Simulation,
  tlsFingerprint: string,
): void {
  router.add('GET', '/', () =>
    ['version', 'cluster', 'nodes', 'storage', 'access', 'pools'].map((subdir) => ({ subdir })),
  );

  router.add('GET', '/version', () => ({ ...PVE_VERSION }));

  router.add('GET', '/nodes', () =>
    [...sim.cluster.nodes.values()].map((node) => ({
      ...nodeStatus(sim, node),
      ssl_fingerprint: tlsFingerprint,
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
    const usage = nodeUsage(sim, node);
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
   * The listing is rebuilt at most once per cluster change or per second (uptimes move),
   * which is what lets it serve thousands of requests per second over 1,000 guests.
   */
  const cache = new Map<string, { version: number; second: number; body: PreSerialized }>();
  router.add('GET', '/cluster/resources', (req) => {
    const type = req.params.str('type') ?? '';
    const now = sim.now();
    const second = Math.floor(now / 1000);
    const cached = cache.get(type);
    if (cached && cached.version === sim.cluster.version && cached.second === second)
      return cached.body;
    const items: unknown[] = [];
    if (type === '' || type === 'node') {
      for (const node of sim.cluster.nodes.values()) {
        items.push({ ...nodeStatus(sim, node), 'cgroup-mode': 2 });
      }
    }
    if (type === '' || type === 'vm') {
      const containers = [...sim.cluster.containers.values()].sort((a, b) => a.vmid - b.vmid);
      for (const container of containers) {
        const running = container.status === 'running';
        const item: Record<string, unknown> = {
          id: `lxc/${container.vmid}`,
          type: 'lxc',
          vmid: container.vmid,
          node: container.node,
          name: container.hostname(),
          status: container.status,
          template: container.isTemplate() ? 1 : 0,
          maxcpu: container.cores() || NODE_MAXCPU,
          cpu: running ? 0.0021 : 0,
          maxmem: container.maxmem(),
          mem: running ? Math.round(container.maxmem() / 8) : 0,
          maxdisk: container.maxdisk(),
          disk: running ? Math.round(container.maxdisk() / 10) : 0,
          uptime: container.uptime(now),
          netin: 0,
          netout: 0,
          diskread: 0,
          diskwrite: 0,
        };
        if (container.config.tags) item.tags = container.config.tags;
        if (container.lock) item.lock = container.lock;
        if (container.config.pool) item.pool = container.config.pool;
        items.push(item);
      }
    }
    if (type === '' || type === 'storage') {
      for (const node of sim.cluster.nodes.values()) {
        for (const storage of node.storages.values()) {
          items.push({
            id: `storage/${node.name}/${storage.id}`,
            type: 'storage',
            node: node.name,
            storage: storage.id,
            status: 'available',
            plugintype: storage.definition.type,
            content: storage.contentString(),
            shared: storage.definition.shared ? 1 : 0,
            disk: storage.used(),
            maxdisk: storage.definition.total,
          });
        }
      }
    }
    if (type === '' || type === 'sdn') {
      for (const node of sim.cluster.nodes.values()) {
        items.push({
          id: `sdn/${node.name}/localnetwork`,
          type: 'sdn',
          sdn: 'localnetwork',
          node: node.name,
          status: 'ok',
        });
      }
    }
    const body = new PreSerialized(Buffer.from(JSON.stringify({ data: items })));
    cache.set(type, { version: sim.cluster.version, second, body });
    return body;
  });
}
