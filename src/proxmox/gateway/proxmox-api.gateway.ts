import { Injectable } from '@nestjs/common';
import proxmoxApi, { type Proxmox } from 'proxmox-api';
import type { ProxmoxConnection } from './proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
import {
  type ClusterNode,
  ProxmoxGateway,
  type ProxmoxVersion,
  type TaskWait,
} from './proxmox-gateway';
import { ProxmoxHttpEngine } from './proxmox-http-engine';
import { createDispatcher } from './tls-dispatcher';

const TASK_LOG_TAIL = 10;
const DEFAULT_POLL_MS = 1000;

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

  async waitForTask(
    connection: ProxmoxConnection,
    node: string,
    upid: string,
    wait: TaskWait,
  ): Promise<void> {
    const deadline = Date.now() + wait.deadlineMs;
    const pollMs = wait.pollMs ?? DEFAULT_POLL_MS;
    await this.with(connection, async (api) => {
      const task = api.nodes.$(node).tasks.$(upid);
      for (;;) {
        const status = await task.status.$get();
        if (status.status === 'stopped') {
          if (succeeded(status.exitstatus)) return;
          const log = await task.log.$get({ start: 0, limit: 1000 }).catch(() => []);
          const tail = log.slice(-TASK_LOG_TAIL).map((line) => String(line.t));
          throw new ProxmoxError(
            ProxmoxErrorKind.TaskFailed,
            `task ${upid} failed: ${String(status.exitstatus)}\n${tail.join('\n')}`,
          );
        }
        if (Date.now() + pollMs > deadline) {
          throw new ProxmoxError(
            ProxmoxErrorKind.Timeout,
            `task ${upid} still running at its deadline`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
    });
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
