import { request as httpRequest } from 'node:http';
import { FaultRules } from './faults/fault-rules';
import { GuestRuntime } from './guest/guest-runtime';
import { ConfigFileLocks } from './pve/config-file-lock';
import { Pvestatd } from './monitoring/pvestatd';
import { ForwardSpec, Reachability, ResponderSpec } from './network/reachability';
import { applyPending } from './pve/pending-changes';
import { VzdumpLocks } from './pve/vzdump-lock';
import { Cluster } from './state/cluster';
import { Container } from './state/container';
import { TaskManager } from './tasks/task-manager';
import { Latency } from './util/latency';
import { Scheduler } from './util/scheduler';
import { HashOrder } from './util/hash-order';
import { SeededRandom } from './util/seeded-random';

export interface SimulationOptions {
  nodes: readonly string[];
  seed: number;
  latency: Latency;
  /** Where forwarding rules listen (the simulator's own address). */
  forwardHost: string;
  /** Nodes that have an address of their own (else they have `forwardHost`). */
  nodeAddresses?: Readonly<Record<string, string>>;
  /** Called after every state change (persistence). */
  onChange?: () => void;
}

/** The container entry of `GET /_sim/state` and `POST /_sim/guests`. */
export interface ContainerView {
  vmid: number;
  node: string;
  hostname: string;
  status: 'running' | 'stopped';
  ip: string | null;
  tags: string[];
  snapshots: string[];
  locked: string | null;
  services: string[];
  /** Options with a pending value or delete (applied at the next start). */
  pending: string[];
}

/**
 * The simulated cluster and everything that acts on it: tasks, faults,
 * latency, and the network endpoints that make containers' services answer.
 * HTTP routes, SSH commands and control routes all work through this object.
 */
export class Simulation {
  readonly scheduler = new Scheduler();
  /** Task timers apart, so that a reset cancels tasks without stalling requests in flight. */
  private readonly taskScheduler = new Scheduler();
  readonly random: SeededRandom;
  /** Apart from `random`, so that listing never shifts the pids and MACs a seed gives. */
  readonly hashOrder: HashOrder;
  readonly cluster: Cluster;
  readonly tasks: TaskManager;
  readonly faults: FaultRules;
  readonly latency: Latency;
  readonly reachability: Reachability;
  /** The flocks on the guests' config lock files (lock_config), held by requests and tasks. */
  readonly configLocks = new ConfigFileLocks();
  readonly pvestatd: Pvestatd;
  readonly vzdumpLocks: VzdumpLocks;
  /** API requests received (not counting /_sim/ routes). */
  calls = 0;

  constructor(private readonly options: SimulationOptions) {
    this.random = new SeededRandom(options.seed);
    this.hashOrder = new HashOrder(new SeededRandom(options.seed ^ 0x4a54).nextUint32());
    this.cluster = new Cluster(options.nodes, this.random, () => Date.now());
    this.latency = { ...options.latency };
    this.faults = new FaultRules(new SeededRandom(options.seed ^ 0x5eed));
    this.tasks = new TaskManager(
      this.cluster,
      this.taskScheduler,
      this.latency,
      this.configLocks,
      () => this.changed(),
    );
    this.reachability = new Reachability();
    this.pvestatd = new Pvestatd(this.cluster, () => this.latency.statsIntervalMs);
    this.vzdumpLocks = new VzdumpLocks(this.taskScheduler);
  }

  now(): number {
    return this.cluster.now();
  }

  changed(): void {
    this.cluster.touch();
    this.options.onChange?.();
  }

  /** Where a node's forwarded ports listen. */
  nodeListenAddress(node: string): string {
    return this.options.nodeAddresses?.[node] ?? this.options.forwardHost;
  }

  /** Reconciles responders and forwarders with the cluster; returns bind failures by `address:port`. */
  refreshNetwork(): Promise<Map<string, string>> {
    const responders: ResponderSpec[] = [];
    for (const container of this.cluster.containers.values()) {
      const address = container.ip();
      if (address === null || !container.guest.dockerRunning()) continue;
      for (const project of container.guest.projects.values()) {
        for (const service of project.services) {
          for (const port of service.ports) {
            if (port.protocol !== 'tcp' || (port.hostIp !== null && port.hostIp !== address))
              continue;
            responders.push({
              address,
              port: port.hostPort,
              serviceName: service.name,
              onRequest: (line) =>
                container.guest.appendServiceLog(project.name, service.name, line),
            });
          }
        }
      }
    }
    const forwards: ForwardSpec[] = [];
    for (const node of this.cluster.nodes.values()) {
      for (const forward of node.nft.forwards()) {
        if (forward.protocol === 'tcp')
          forwards.push({
            listenAddress: this.nodeListenAddress(node.name),
            publicPort: forward.publicPort,
            targetAddress: forward.targetAddress,
            targetPort: forward.targetPort,
          });
      }
    }
    return this.reachability.apply(responders, forwards);
  }

  /**
   * Marks a container running (services come back: restart unless-stopped).
   * vm_start applies what is still pending first.
   */
  async markRunning(container: Container): Promise<void> {
    applyPending(container);
    container.status = 'running';
    container.startedAt = this.now();
    for (const project of container.guest.projects.values()) {
      for (const service of project.services)
        container.guest.appendServiceLog(
          project.name,
          service.name,
          `${service.name} started (container restart)`,
        );
    }
    this.changed();
    await this.refreshNetwork();
  }

  /** lxc-pve-poststop-hook applies the pending changes as the container stops. */
  async markStopped(container: Container): Promise<void> {
    applyPending(container);
    container.status = 'stopped';
    container.startedAt = null;
    this.changed();
    await this.refreshNetwork();
  }

  /** What programs inside this container can use. */
  guestRuntime(container: Container): GuestRuntime {
    const applyServices = async (): Promise<Map<number, string>> => {
      this.changed();
      const failures = await this.refreshNetwork();
      const mine = new Map<number, string>();
      const address = container.ip();
      for (const [key, reason] of failures) {
        const separator = key.lastIndexOf(':');
        if (key.slice(0, separator) === address) mine.set(Number(key.slice(separator + 1)), reason);
      }
      return mine;
    };
    return {
      vmid: container.vmid,
      get guest() {
        return container.guest;
      },
      hostname: () => container.hostname(),
      ip: () => container.ip(),
      nestingAllowed: () => container.nestingAllowed(),
      random: this.random,
      now: () => this.now(),
      sleep: (ms) => this.scheduler.delay(ms),
      installDelay: () => this.scheduler.delay(this.latency.taskMs),
      applyServices,
      httpGet: (url, timeoutMs) => httpGet(url, timeoutMs),
    };
  }

  containerView(container: Container): ContainerView {
    return {
      vmid: container.vmid,
      node: container.node,
      hostname: container.hostname(),
      status: container.status,
      ip: container.ip(),
      tags: container.tags(),
      snapshots: container.snapshots.map((snapshot) => snapshot.name),
      locked: container.lock,
      services: container.status === 'running' ? container.guest.serviceNames() : [],
      pending: container.pendingKeys(),
    };
  }

  stateView(): unknown {
    const containers = [...this.cluster.containers.values()]
      .sort((a, b) => a.vmid - b.vmid)
      .map((container) => this.containerView(container));
    const backups: string[] = [];
    const forwards: Array<{
      node: string;
      publicPort: number;
      protocol: string;
      target: string;
      comment: string | null;
    }> = [];
    for (const node of this.cluster.nodes.values()) {
      for (const storage of node.storages.values()) {
        for (const volume of storage.volumes.values())
          if (volume.content === 'backup') backups.push(volume.volid);
      }
      for (const forward of node.nft.forwards()) {
        forwards.push({
          node: node.name,
          publicPort: forward.publicPort,
          protocol: forward.protocol,
          target: `${forward.targetAddress}:${forward.targetPort}`,
          comment: forward.comment,
        });
      }
    }
    return {
      containers,
      backups: backups.sort(),
      forwards,
      tasks: this.tasks.stats(),
      calls: this.calls,
    };
  }

  async reset(): Promise<void> {
    this.taskScheduler.cancelAll();
    this.tasks.reset();
    this.configLocks.reset();
    this.vzdumpLocks.reset();
    this.faults.clear();
    Object.assign(this.latency, this.options.latency);
    this.cluster.reset();
    this.pvestatd.restart();
    this.calls = 0;
    this.changed();
    await this.refreshNetwork();
  }

  async close(): Promise<void> {
    this.pvestatd.stop();
    this.scheduler.close();
    this.taskScheduler.close();
    await this.reachability.close();
  }
}

function httpGet(url: URL, timeoutMs: number): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
