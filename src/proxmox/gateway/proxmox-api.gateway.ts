import { pollUntil } from '../../common/time/poll';
import { Injectable } from '@nestjs/common';
import { isIP } from 'node:net';
import proxmoxApi, { type Proxmox } from 'proxmox-api';
import type { ProxmoxConnection } from './proxmox-connection';
import { isNodeName } from '../node-name';
import { classifyFailureText, ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
import {
  type ClusterContainer,
  type CloneSpec,
  type BackupSpec,
  type BackupVolume,
  type ClusterGuest,
  type ClusterNode,
  type ContainerRef,
  type ContainerSpec,
  type ContainerStatus,
  type NetworkInterface,
  ProxmoxGateway,
  type TaggedGuest,
  type ProxmoxVersion,
  type RestoreSpec,
  type TaskWait,
} from './proxmox-gateway';
import { ProxmoxHttpEngine } from './proxmox-http-engine';
import { createDispatcher } from './tls-dispatcher';
import { parseUpid } from './upid';
import { vmidSegment } from './vmid';

type ContainerApi = ReturnType<ReturnType<Proxmox.Api['nodes']['$']>['lxc']['$']>;

const TASK_LOG_TAIL = 10;
const DEFAULT_POLL_MS = 1000;

/** A storage id or bridge name: nothing that could end its part of a property string. */
const PROPERTY_VALUE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Proxmox's snapshot names: a letter, then up to 39 of `[A-Za-z0-9_-]`; it becomes a path segment. */
const SNAPSHOT_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,39}$/;

function snapshotName(name: string): string {
  if (SNAPSHOT_NAME.test(name)) return name;
  throw new ProxmoxError(
    ProxmoxErrorKind.InvalidRequest,
    `refused snapshot name ${JSON.stringify(name)}`,
  );
}

function propertyValue(field: string, value: string): string {
  if (PROPERTY_VALUE.test(value)) return value;
  throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `refused ${field} '${value}'`);
}

function nodeSegment(node: string): string {
  if (isNodeName(node)) return node;
  throw new ProxmoxError(
    ProxmoxErrorKind.InvalidRequest,
    `refused node name ${JSON.stringify(node)}`,
  );
}

/** One entry of `interfaces`: `inet` (`a.b.c.d/nn`) and/or `ip-addresses`, as versions differ. */
function toInterface(entry: Record<string, unknown>): NetworkInterface {
  const ipv4 = new Set<string>();
  if (typeof entry.inet === 'string') ipv4.add(entry.inet.split('/')[0]);
  const addresses = Array.isArray(entry['ip-addresses']) ? entry['ip-addresses'] : [];
  for (const a of addresses as Array<Record<string, unknown>>) {
    if (a['ip-address-type'] === 'inet' && typeof a['ip-address'] === 'string') {
      ipv4.add(a['ip-address']);
    }
  }
  return { name: String(entry.name), ipv4: [...ipv4] };
}

function optionalNumber(value: unknown): number | null {
  return value === undefined || value === null ? null : Number(value);
}

function succeeded(exitstatus: string | undefined): boolean {
  return exitstatus === 'OK' || (exitstatus ?? '').startsWith('WARNINGS');
}

/** The ProxmoxGateway on the proxmox-api typed client, one pinned dispatcher per use. */
@Injectable()
export class ProxmoxApiGateway extends ProxmoxGateway {
  async version(connection: ProxmoxConnection): Promise<ProxmoxVersion> {
    return this.with(connection, async (api) => {
      const data = await api.version.$get();
      return { version: String(data.version), release: String(data.release) };
    });
  }

  async listNodes(connection: ProxmoxConnection): Promise<ClusterNode[]> {
    return this.with(connection, async (api) => {
      const nodes = await api.nodes.$get();
      return nodes.map((n) => ({
        name: n.node,
        online: n.status === 'online',
        cpus: Number(n.maxcpu ?? 0),
        memoryTotal: Number(n.maxmem ?? 0),
        memoryFree: Math.max(0, Number(n.maxmem ?? 0) - Number(n.mem ?? 0)),
        diskFree: Math.max(0, Number(n.maxdisk ?? 0) - Number(n.disk ?? 0)),
      }));
    });
  }

  async nodeAddresses(connection: ProxmoxConnection): Promise<Map<string, string>> {
    return this.with(connection, async (api) => {
      const entries = await api.cluster.status.$get();
      const addresses = new Map<string, string>();
      for (const entry of entries) {
        // An address that is not an IP literal would end up in URLs we hand out.
        if (entry.type === 'node' && typeof entry.ip === 'string' && isIP(entry.ip) !== 0) {
          addresses.set(String(entry.name), entry.ip);
        }
      }
      return addresses;
    });
  }

  async waitForTask(connection: ProxmoxConnection, upid: string, wait: TaskWait): Promise<void> {
    const { node } = parseUpid(upid);
    // One budget for the whole wait: a slow status read cannot carry it past the deadline.
    const budget = new AbortController();
    const timer = setTimeout(
      () => budget.abort(new DOMException('the task wait reached its deadline', 'TimeoutError')),
      wait.deadlineMs,
    );
    const signal = connection.signal
      ? AbortSignal.any([connection.signal, budget.signal])
      : budget.signal;
    try {
      await this.with({ ...connection, signal }, async (api) => {
        const task = api.nodes.$(node).tasks.$(upid);
        await pollUntil(
          async () => {
            const status = await task.status.$get();
            if (status.status !== 'stopped') return null;
            if (succeeded(status.exitstatus)) return true;
            const exit = String(status.exitstatus);
            const log = await task.log.$get({ start: 0, limit: 1000 }).catch(() => []);
            const tail = log.slice(-TASK_LOG_TAIL).map((line) => String(line.t));
            throw new ProxmoxError(
              ProxmoxErrorKind.TaskFailed,
              `task ${upid} failed: ${exit}\n${tail.join('\n')}`,
              null,
              { taskReason: classifyFailureText(exit) },
            );
          },
          { deadlineMs: wait.deadlineMs, maxIntervalMs: wait.pollMs ?? DEFAULT_POLL_MS },
          () =>
            new ProxmoxError(
              ProxmoxErrorKind.Timeout,
              `task ${upid} still running at its deadline`,
            ),
        );
      });
    } finally {
      // Not left running until the deadline after the task has ended.
      clearTimeout(timer);
    }
  }

  async createContainer(connection: ProxmoxConnection, spec: ContainerSpec): Promise<string> {
    const node = nodeSegment(spec.node);
    for (const [field, value] of [
      ['storage', spec.storage],
      ['bridge', spec.bridge],
    ] as const) {
      if (!PROPERTY_VALUE.test(value)) {
        throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `refused ${field} '${value}'`);
      }
    }
    return this.with(connection, (api) =>
      api.nodes.$(node).lxc.$post({
        vmid: vmidSegment(spec.vmid),
        ostemplate: spec.template,
        hostname: spec.hostname,
        password: spec.password,
        cores: spec.cores,
        memory: spec.memoryMb,
        swap: spec.swapMb,
        rootfs: `${spec.storage}:${spec.diskGb}`,
        net0: `name=eth0,bridge=${spec.bridge},ip=dhcp`,
        features: spec.features,
        unprivileged: true,
        tags: spec.tags.join(';'),
        description: spec.description,
      }),
    );
  }

  async startContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string> {
    return this.withContainer(connection, ref, (ct) => ct.status.start.$post());
  }

  async shutdownContainer(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    timeoutSeconds: number,
  ): Promise<string> {
    return this.withContainer(connection, ref, (ct) =>
      ct.status.shutdown.$post({ timeout: timeoutSeconds, forceStop: false }),
    );
  }

  async stopContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string> {
    return this.withContainer(connection, ref, (ct) => ct.status.stop.$post());
  }

  async destroyContainer(connection: ProxmoxConnection, ref: ContainerRef): Promise<string> {
    return this.withContainer(connection, ref, (ct) =>
      ct.$delete({ purge: true, 'destroy-unreferenced-disks': true }),
    );
  }

  async containerStatus(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<ContainerStatus> {
    return this.withContainer(connection, ref, async (ct) => {
      const s = await ct.status.current.$get();
      const status = s.status === 'running' || s.status === 'stopped' ? s.status : 'unknown';
      return {
        status,
        lock: typeof s.lock === 'string' && s.lock !== '' ? s.lock : null,
        cpus: Number(s.cpus ?? 0),
        cpu: Number(s.cpu ?? 0),
        memoryUsed: Number(s.mem ?? 0),
        memoryTotal: Number(s.maxmem ?? 0),
        diskUsed: Number(s.disk ?? 0),
        diskTotal: Number(s.maxdisk ?? 0),
        uptimeSeconds: Number(s.uptime ?? 0),
        netIn: Number(s.netin ?? 0),
        netOut: Number(s.netout ?? 0),
      };
    });
  }

  async containerInterfaces(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<NetworkInterface[] | null> {
    return this.withContainer(connection, ref, async (ct) => {
      // Typed as a list, but null while the container does not run.
      const list = (await ct.interfaces.$get()) as unknown;
      if (!Array.isArray(list)) return null;
      return (list as Array<Record<string, unknown>>).map(toInterface);
    });
  }

  async containerConfig(
    connection: ProxmoxConnection,
    ref: ContainerRef,
  ): Promise<Record<string, string>> {
    return this.withContainer(connection, ref, async (ct) => {
      const config = (await ct.config.$get()) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, String(v)]));
    });
  }

  async listClusterGuests(connection: ProxmoxConnection): Promise<ClusterGuest[]> {
    return this.with(connection, async (api) => {
      const resources = await api.cluster.resources.$get({ type: 'vm' });
      return resources.flatMap((r) =>
        (r.type === 'lxc' || r.type === 'qemu') && typeof r.node === 'string'
          ? [{ vmid: Number(r.vmid), node: r.node, type: r.type }]
          : [],
      );
    });
  }

  // --- adopt ---
  async listClusterContainers(connection: ProxmoxConnection): Promise<ClusterContainer[]> {
    return this.with(connection, async (api) => {
      const resources = await api.cluster.resources.$get({ type: 'vm' });
      return resources.flatMap((r) =>
        r.type === 'lxc' && typeof r.node === 'string'
          ? [
              {
                vmid: Number(r.vmid),
                node: r.node,
                hostname: typeof r.name === 'string' ? r.name : null,
                status: r.status === 'running' || r.status === 'stopped' ? r.status : 'unknown',
                cores: optionalNumber(r.maxcpu),
                memoryBytes: optionalNumber(r.maxmem),
                diskBytes: optionalNumber(r.maxdisk),
              },
            ]
          : [],
      );
    });
  }

  // --- reconciler ---
  async listTaggedGuests(connection: ProxmoxConnection): Promise<TaggedGuest[]> {
    return this.with(connection, async (api) => {
      const resources = await api.cluster.resources.$get({ type: 'vm' });
      return resources.flatMap((r) => {
        if ((r.type !== 'lxc' && r.type !== 'qemu') || typeof r.node !== 'string') return [];
        const tags = typeof r.tags === 'string' ? r.tags.split(/[;, ]+/).filter(Boolean) : [];
        const lock = typeof r.lock === 'string' && r.lock !== '' ? r.lock : null;
        return [{ vmid: Number(r.vmid), node: r.node, type: r.type, tags, lock }];
      });
    });
  }

  // --- clone ---

  async createSnapshot(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    name: string,
  ): Promise<string> {
    const snapname = snapshotName(name);
    return this.withContainer(connection, ref, (ct) => ct.snapshot.$post({ snapname }));
  }

  async deleteSnapshot(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    name: string,
  ): Promise<string> {
    const snapname = snapshotName(name);
    return this.withContainer(connection, ref, (ct) => ct.snapshot.$(snapname).$delete());
  }

  async listSnapshots(connection: ProxmoxConnection, ref: ContainerRef): Promise<string[]> {
    return this.withContainer(connection, ref, async (ct) => {
      const list = await ct.snapshot.$get();
      return list.map((s) => String(s.name)).filter((name) => name !== 'current');
    });
  }

  async cloneContainer(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    spec: CloneSpec,
  ): Promise<string> {
    if (!PROPERTY_VALUE.test(spec.storage)) {
      throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `refused storage '${spec.storage}'`);
    }
    const snapshot = spec.snapshot === null ? {} : { snapname: snapshotName(spec.snapshot) };
    return this.withContainer(connection, ref, (ct) =>
      ct.clone.$post({
        newid: vmidSegment(spec.newVmid),
        hostname: spec.hostname,
        full: true,
        storage: spec.storage,
        description: spec.description,
        ...snapshot,
      }),
    );
  }

  // --- backups ---
  async vzdump(connection: ProxmoxConnection, spec: BackupSpec): Promise<string> {
    const node = nodeSegment(spec.node);
    const storage = propertyValue('storage', spec.storage);
    const result = await this.with(connection, (api) =>
      api.nodes.$(node).vzdump.$post({
        vmid: String(vmidSegment(spec.vmid)),
        storage,
        mode: spec.mode,
        compress: spec.compress,
        remove: false,
        ...(spec.lockWaitMinutes === undefined ? {} : { lockwait: spec.lockWaitMinutes }),
      }),
    );
    // vzdump answers "OK" without starting a task when the guest is not on that node.
    if (!result.startsWith('UPID:')) {
      throw new ProxmoxError(
        ProxmoxErrorKind.NotFound,
        `vzdump of ${spec.vmid} on ${node} started no task: ${result}`,
      );
    }
    return result;
  }

  async taskLog(connection: ProxmoxConnection, upid: string, start = 0): Promise<string[]> {
    const { node } = parseUpid(upid);
    return this.with(connection, async (api) => {
      const lines = await api.nodes.$(node).tasks.$(upid).log.$get({ start, limit: 0 });
      return lines.map((line) => String(line.t));
    });
  }

  async listBackups(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    storage: string,
  ): Promise<BackupVolume[]> {
    const node = nodeSegment(ref.node);
    const vmid = vmidSegment(ref.vmid);
    const store = propertyValue('storage', storage);
    return this.with(connection, async (api) => {
      const content = await api.nodes.$(node).storage.$(store).content.$get({
        content: 'backup',
        vmid,
      });
      return content.map((v) => ({
        volid: String(v.volid),
        size: Number(v.size ?? 0),
        ctime: Number(v.ctime ?? 0),
      }));
    });
  }

  async deleteVolume(connection: ProxmoxConnection, node: string, volid: string): Promise<string> {
    const nodeName = nodeSegment(node);
    const storage = propertyValue('storage', volid.split(':')[0]);
    return this.with(connection, (api) =>
      api.nodes.$(nodeName).storage.$(storage).content.$(volid).$delete(),
    );
  }

  async restoreContainer(connection: ProxmoxConnection, spec: RestoreSpec): Promise<string> {
    const node = nodeSegment(spec.node);
    const storage = propertyValue('storage', spec.storage);
    return this.with(connection, (api) =>
      api.nodes.$(node).lxc.$post({
        vmid: vmidSegment(spec.vmid),
        ostemplate: spec.archive,
        restore: true,
        force: true,
        storage,
      }),
    );
  }

  async setContainerLabels(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    labels: { tags: readonly string[]; description: string },
  ): Promise<void> {
    await this.withContainer(connection, ref, (ct) =>
      ct.config.$put({ tags: labels.tags.join(';'), description: labels.description }),
    );
  }

  private async withContainer<T>(
    connection: ProxmoxConnection,
    ref: ContainerRef,
    work: (ct: ContainerApi) => Promise<T>,
  ): Promise<T> {
    const node = nodeSegment(ref.node);
    const vmid = vmidSegment(ref.vmid);
    return this.with(connection, (api) => work(api.nodes.$(node).lxc.$(vmid)));
  }

  private async with<T>(
    connection: ProxmoxConnection,
    work: (api: Proxmox.Api) => Promise<T>,
  ): Promise<T> {
    const dispatcher = createDispatcher(connection.tls, connection.timeoutMs);
    try {
      return await work(proxmoxApi(new ProxmoxHttpEngine(connection, dispatcher)));
    } finally {
      await dispatcher.destroy();
    }
  }
}
