import { Cluster, ClusterNode } from '../state/cluster';

export const NODE_MAXCPU = 8;
export const NODE_MAXMEM = 32 * 1024 ** 3;
export const NODE_ROOT_DISK = 96 * 1024 ** 3;

export interface NodeUsage {
  cpu: number;
  mem: number;
  disk: number;
  uptime: number;
}

/** What the node's /proc says right now (`/nodes/{node}/status` reads it; pvestatd samples it). */
export function nodeUsage(cluster: Cluster, node: ClusterNode): NodeUsage {
  let running = 0;
  let mem = 2.1 * 1024 ** 3;
  for (const container of cluster.containers.values()) {
    if (container.node !== node.name || container.status !== 'running') continue;
    running++;
    mem += container.maxmem() / 4;
  }
  const local = node.storages.get('local');
  return {
    cpu: Math.min(0.95, Number((0.012 + running * 0.003).toFixed(6))),
    mem: Math.min(Math.round(mem), NODE_MAXMEM),
    disk: 6.4 * 1024 ** 3 + (local?.used() ?? 0),
    uptime: Math.floor((cluster.now() - node.bootTime) / 1000),
  };
}
