import { pollUntil } from '../../common/time/poll';
import { Injectable } from '@nestjs/common';
import type { ProxmoxConnection } from '../../proxmox/gateway/proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { type ContainerRef, ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import type { ShellTarget } from '../../proxmox/shell/node-shell';
import { NodeShell } from '../../proxmox/shell/node-shell';
import {
  applicationDescription,
  applicationTag,
  belongsTo,
  parseFeatures,
  PROXIMITY_TAG,
} from './container-ownership';
import { DeployErrorCode, DeployStepError, scrubbed } from './deploy-errors';
import { DeployTimings } from './deploy-timings';

/** Where the steps act: the cluster's API and a shell on the node that holds the container. */
export interface DeployTarget {
  connection: ProxmoxConnection;
  /** A validated node name: it becomes a URL path segment. */
  node: string;
  /** SSH to `node` (direct, or a hop through another node of the cluster). */
  shell: ShellTarget;
}

export interface ContainerInput {
  target: DeployTarget;
  applicationId: string;
  vmid: number;
}

export interface CloneContainerInput extends ContainerInput {
  /** The container copied, on the same node. */
  sourceVmid: number;
  hostname: string;
  storage: string;
  /** The source's snapshot to copy (a running source), or null for its current state. */
  snapshot: string | null;
}

export interface CreateContainerInput extends ContainerInput {
  hostname: string;
  template: string;
  storage: string;
  bridge: string;
  diskGb: number;
  cores: number;
  memoryMb: number;
  swapMb: number;
  /** Goes only into the create request's body. */
  rootPassword: string;
}

/** Docker in an unprivileged container needs both; they apply at the first start. */
const FEATURES = { nesting: '1', keyctl: '1' } as const;
const FEATURES_TEXT = 'nesting=1,keyctl=1';

function isNotFound(error: unknown): boolean {
  return error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.NotFound;
}

/**
 * The container side of a deployment: create, start, address, and destroy
 * as compensation. Each step is idempotent (it first looks at what exists)
 * and confirms its outcome with `status/current` or the task's result, never
 * with the lagging `/cluster/resources`.
 */
@Injectable()
export class ContainerSteps {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly shell: NodeShell,
    private readonly timings: DeployTimings,
  ) {}

  /**
   * Creates the container, unprivileged with nesting and keyctl, not started.
   * Done already when the VMID holds this application's container; a
   * VMID-conflict error when it holds anyone else's guest.
   */
  async createContainer(input: CreateContainerInput): Promise<{ created: boolean }> {
    const { target, applicationId } = input;
    const ref = this.ref(input);
    if (await this.adoptOwn(input)) return { created: false };
    // A token is not root@pam: Proxmox refuses it every feature flag but nesting
    // (set keyctl over SSH below, before the first start).
    const byToken = 'tokenId' in target.connection.auth;
    let upid: string;
    try {
      upid = await this.gateway.createContainer(target.connection, {
        ...ref,
        hostname: input.hostname,
        template: input.template,
        storage: input.storage,
        diskGb: input.diskGb,
        bridge: input.bridge,
        cores: input.cores,
        memoryMb: input.memoryMb,
        swapMb: input.swapMb,
        password: input.rootPassword,
        features: byToken ? 'nesting=1' : FEATURES_TEXT,
        tags: [PROXIMITY_TAG, applicationTag(applicationId)],
        description: applicationDescription(applicationId),
      });
    } catch (error) {
      const exists = error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.AlreadyExists;
      // Created meanwhile by an attempt of ours, or a guest elsewhere in the cluster.
      if (exists && (await this.adoptOwn(input))) return { created: false };
      if (exists) throw this.conflict(input.vmid);
      throw scrubbed(error, [input.rootPassword]);
    }
    try {
      await this.gateway.waitForTask(target.connection, upid, this.taskWait());
    } catch (error) {
      throw scrubbed(error, [input.rootPassword]);
    }
    await this.ensureFeatures(input);
    return { created: true };
  }

  /**
   * A full clone of the source into this application's VMID, described as
   * this application's from the start (the tags still are the source's until
   * relabelled). Done already when the VMID holds this application's
   * container; a VMID-conflict error when it holds anyone else's guest.
   */
  async cloneContainer(input: CloneContainerInput): Promise<{ cloned: boolean }> {
    const { connection, node } = input.target;
    if (await this.holdsOwn(input)) return { cloned: false };
    let upid: string;
    try {
      upid = await this.gateway.cloneContainer(
        connection,
        { node, vmid: input.sourceVmid },
        {
          newVmid: input.vmid,
          hostname: input.hostname,
          storage: input.storage,
          snapshot: input.snapshot,
          description: applicationDescription(input.applicationId),
        },
      );
    } catch (error) {
      const exists = error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.AlreadyExists;
      if (exists && (await this.holdsOwn(input))) return { cloned: false };
      if (exists) throw this.conflict(input.vmid);
      throw error;
    }
    await this.gateway.waitForTask(connection, upid, this.taskWait());
    return { cloned: true };
  }

  /** Starts the container and confirms it runs; done already when it runs. */
  async startContainer(input: ContainerInput): Promise<{ started: boolean }> {
    const { connection } = input.target;
    const ref = this.ref(input);
    if ((await this.gateway.containerStatus(connection, ref)).status === 'running') {
      return { started: false };
    }
    try {
      await this.gateway.waitForTask(
        connection,
        await this.gateway.startContainer(connection, ref),
        this.taskWait(),
      );
    } catch (error) {
      // "already running": another start won the race; the status below decides.
      if (!(error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.WrongState)) {
        throw error;
      }
    }
    if ((await this.gateway.containerStatus(connection, ref)).status !== 'running') {
      throw new DeployStepError(DeployErrorCode.NotRunning, 'the container did not start');
    }
    return { started: true };
  }

  /** eth0's IPv4 address, polled until the deadline (a DHCP lease comes after the start). */
  async waitForAddress(input: ContainerInput): Promise<{ ipAddress: string }> {
    return pollUntil(
      async () => {
        const interfaces = await this.gateway.containerInterfaces(
          input.target.connection,
          this.ref(input),
        );
        const eth0 = interfaces?.find((i) => i.name === 'eth0');
        const address = eth0?.ipv4.find((ip) => !ip.startsWith('169.254.'));
        return address ? { ipAddress: address } : null;
      },
      { deadlineMs: this.timings.addressDeadlineMs, maxIntervalMs: this.timings.pollMs },
      () =>
        new DeployStepError(
          DeployErrorCode.NoAddress,
          'the container got no IPv4 address on eth0 in time',
        ),
    );
  }

  /**
   * Lifecycle stop: a clean shutdown within the configured timeout, then a
   * hard stop if the container is still up. Done already when it is stopped.
   */
  async stopContainer(input: ContainerInput): Promise<{ stopped: boolean; forced: boolean }> {
    const { connection } = input.target;
    const ref = this.ref(input);
    if ((await this.gateway.containerStatus(connection, ref)).status === 'stopped') {
      return { stopped: false, forced: false };
    }
    const seconds = this.timings.shutdownTimeoutSeconds;
    let forced = false;
    try {
      await this.gateway.waitForTask(
        connection,
        await this.gateway.shutdownContainer(connection, ref, seconds),
        // The task itself gives up after `seconds`; the margin covers its start and end.
        { deadlineMs: seconds * 1000 + this.timings.taskDeadlineMs, pollMs: this.timings.pollMs },
      );
    } catch (error) {
      const kind = error instanceof ProxmoxError ? error.kind : null;
      // "not running": it stopped meanwhile. A failed or endless shutdown: force it.
      if (kind !== ProxmoxErrorKind.WrongState) {
        if (kind !== ProxmoxErrorKind.TaskFailed && kind !== ProxmoxErrorKind.Timeout) throw error;
        forced = true;
        await this.gateway.waitForTask(
          connection,
          await this.gateway.stopContainer(connection, ref),
          this.taskWait(),
        );
      }
    }
    if ((await this.gateway.containerStatus(connection, ref)).status !== 'stopped') {
      throw new DeployStepError(DeployErrorCode.StillRunning, 'the container did not stop');
    }
    return { stopped: true, forced };
  }

  /**
   * Compensation: stops and destroys this application's container with its
   * disks. Nothing to do when the VMID is free; never touches a guest that
   * is not the application's (`owns` tells: by default our marks, which an
   * adopted container does not carry).
   */
  async destroyContainer(
    input: ContainerInput,
    owns: (config: Record<string, string>) => boolean = (config) =>
      belongsTo(config, input.applicationId),
  ): Promise<{ destroyed: boolean }> {
    const { connection } = input.target;
    const ref = this.ref(input);
    const existing = await this.readConfig(input);
    const config = existing && (await this.settledConfig(input, existing));
    if (config === null) return { destroyed: false };
    if (!owns(config)) throw this.conflict(input.vmid);
    try {
      if ((await this.awaitUnlocked(input)) === 'running') {
        await this.gateway.waitForTask(
          connection,
          await this.gateway.stopContainer(connection, ref),
          this.taskWait(),
        );
      }
      await this.gateway.waitForTask(
        connection,
        await this.gateway.destroyContainer(connection, ref),
        this.taskWait(),
      );
    } catch (error) {
      // Gone meanwhile: what compensation wanted.
      if (isNotFound(error)) return { destroyed: false };
      throw error;
    }
    return { destroyed: true };
  }

  /** True when the VMID holds this application's container once no task creates it; false when free. */
  private async holdsOwn(input: ContainerInput): Promise<boolean> {
    const existing = await this.readConfig(input);
    const config = existing && (await this.settledConfig(input, existing));
    if (config === null) return false;
    if (!belongsTo(config, input.applicationId)) throw this.conflict(input.vmid);
    return true;
  }

  /** True when the VMID already holds this application's container (its create finished). */
  private async adoptOwn(input: CreateContainerInput): Promise<boolean> {
    const existing = await this.readConfig(input);
    if (existing === null) return false;
    const config = await this.settledConfig(input, existing);
    // A create that failed in its task removes the container again.
    if (config === null) {
      throw new DeployStepError(
        DeployErrorCode.CreateUnfinished,
        'an earlier create of this container did not complete',
      );
    }
    if (!belongsTo(config, input.applicationId)) throw this.conflict(input.vmid);
    await this.ensureFeatures(input);
    return true;
  }

  /**
   * The config once no create runs on it: during a create Proxmox holds an
   * empty config with `lock: create` (the tags and description come with the
   * task), so ownership can only be read after it. Null when it is gone.
   */
  private async settledConfig(
    input: ContainerInput,
    config: Record<string, string>,
  ): Promise<Record<string, string> | null> {
    if (config.lock !== 'create') return config;
    await this.awaitUnlocked(input);
    return this.readConfig(input);
  }

  /** Sets nesting and keyctl with `pct set` (as root on the node) when the create could not. */
  private async ensureFeatures(input: ContainerInput): Promise<void> {
    const config = await this.readConfig(input);
    const features = parseFeatures(config?.features);
    const missing = Object.entries(FEATURES).some(([key, value]) => features[key] !== value);
    if (!missing) return;
    const merged = Object.entries({ ...features, ...FEATURES })
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    await this.shell.runChecked(input.target.shell, {
      argv: ['pct', 'set', String(input.vmid), '--features', merged],
      timeoutMs: 60_000,
    });
  }

  /** Waits out a `create` lock (an earlier attempt's create still running); returns the status. */
  private async awaitUnlocked(input: ContainerInput): Promise<string> {
    return pollUntil(
      async () => {
        let status;
        try {
          status = await this.gateway.containerStatus(input.target.connection, this.ref(input));
        } catch (error) {
          // The create failed and took the container with it.
          if (isNotFound(error)) return 'gone';
          throw error;
        }
        return status.lock === 'create' ? null : status.status;
      },
      { deadlineMs: this.timings.createLockDeadlineMs, maxIntervalMs: this.timings.pollMs },
      () =>
        new DeployStepError(
          DeployErrorCode.CreateUnfinished,
          'an earlier create of this container is still running',
        ),
    );
  }

  private async readConfig(input: ContainerInput): Promise<Record<string, string> | null> {
    try {
      return await this.gateway.containerConfig(input.target.connection, this.ref(input));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private conflict(vmid: number): DeployStepError {
    return new DeployStepError(
      DeployErrorCode.VmidConflict,
      `VMID ${vmid} is used by a guest that is not this application's`,
    );
  }

  private ref(input: ContainerInput): ContainerRef {
    return { node: input.target.node, vmid: input.vmid };
  }

  private taskWait() {
    return { deadlineMs: this.timings.taskDeadlineMs, pollMs: Math.min(this.timings.pollMs, 1000) };
  }
}
