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

/**
 * Everything Proximity asks of a Proxmox VE cluster. Callers depend on this
 * port; the adapter speaks HTTPS (in tests, to the simulator over the network).
 */
export abstract class ProxmoxGateway {
  abstract version(connection: ProxmoxConnection): Promise<ProxmoxVersion>;

  abstract listNodes(connection: ProxmoxConnection): Promise<ClusterNode[]>;

  /** Resolves when the task ends OK; throws TaskFailed (with the log tail) or Timeout. */
  abstract waitForTask(
    connection: ProxmoxConnection,
    node: string,
    upid: string,
    wait: TaskWait,
  ): Promise<void>;
}
