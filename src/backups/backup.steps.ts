import { sleep } from '../common/time/poll';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { ContainerSteps } from '../applications/deploy/container.steps';
import { DeployTimings } from '../applications/deploy/deploy-timings';
import type { DeployPlan, DeployState } from '../applications/deploy/deploy.steps';
import { DeploySteps } from '../applications/deploy/deploy.steps';
import type { NamedStep } from '../operations/step-runner';
import { OperationType } from '../operations/operation.entity';
import type { BackupCompression, BackupMode } from '../proxmox/gateway/proxmox-gateway';
import { ProxmoxError, ProxmoxErrorKind } from '../proxmox/gateway/proxmox-error';
import { ProxmoxGateway } from '../proxmox/gateway/proxmox-gateway';
import { BackupArchives } from './backup-archives';
import { Backup } from './backup.entity';
import { BackupStepError } from './backup-errors';
import { ScheduledRetention } from './schedule/scheduled-retention';

/** A deployment's plan (target, container, services) plus what the backup operation needs. */
export interface BackupPlan extends DeployPlan {
  backup: {
    id: string;
    mode: BackupMode;
    compress: BackupCompression;
    /** The host's backup storage. */
    storage: string;
    volid: string | null;
    /** The vzdump task an earlier attempt started. */
    taskUpid: string | null;
    startAfterRestore: boolean;
    /** Made by a schedule: the schedule's older backups beyond keepLast go after it. */
    scheduled: boolean;
  };
  /** When the operation's deadline passes (epoch ms): a vzdump may wait for the node's lock until then. */
  deadlineAt: number;
  /** Writes a line to the operation's log. */
  report(message: string): Promise<void>;
}

export type BackupState = DeployState;
export type BackupStep = NamedStep<BackupPlan, BackupState>;
export type BackupOperationType =
  OperationType.Backup | OperationType.Restore | OperationType.BackupDelete;

const WAITING = 'trying to get global lock';
const GOT_LOCK = 'got global lock';
const ARCHIVE = /creating vzdump archive '(?:[^']*\/)?([^'/]+)'/;

/** Proxmox's own bound on the wait for a node's vzdump lock. */
const MAX_LOCK_WAIT_MINUTES = 180;
/** Left for the backup itself once the lock comes. */
const BACKUP_RUN_MARGIN_MS = 30 * 60_000;

/**
 * The vzdump lock wait that still leaves the backup time to run before the
 * operation's deadline: a task that outlived its operation would write an
 * archive no row knows.
 */
export function lockWaitWithin(deadlineAt: number, now = Date.now()): number {
  const minutes = Math.floor((deadlineAt - now - BACKUP_RUN_MARGIN_MS) / 60_000);
  return Math.max(0, Math.min(MAX_LOCK_WAIT_MINUTES, minutes));
}

/**
 * The named steps of backup, restore and backup delete. Each is idempotent:
 * the vzdump step waits on the task an earlier attempt started (its UPID is
 * kept on the row) instead of starting a second one, and the archive is
 * found by the name that task logged, never as "the newest file".
 */
@Injectable()
export class BackupSteps {
  private readonly plans: Record<BackupOperationType, readonly BackupStep[]>;

  constructor(
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
    private readonly timings: DeployTimings,
    private readonly archives: BackupArchives,
    private readonly retention: ScheduledRetention,
    deploy: DeploySteps,
    container: ContainerSteps,
  ) {
    const byName = new Map<string, BackupStep>(deploy.steps.map((s) => [s.name, s]));
    const deployStep = (name: string): BackupStep => {
      const step = byName.get(name);
      if (!step) throw new Error(`no deploy step named ${name}`);
      return step;
    };
    const step = (name: string, run: (plan: BackupPlan) => Promise<void>): BackupStep => ({
      name,
      run: async (plan, state) => {
        await run(plan);
        return state;
      },
    });
    const restart = ['start_container', 'wait_for_address', 'verify', 'forward_ports'];
    this.plans = {
      [OperationType.Backup]: [
        step('vzdump', (plan) => this.vzdump(plan)),
        step('record_archive', (plan) => this.recordArchive(plan)),
        step('prune_scheduled', async (plan) => {
          if (!plan.backup.scheduled) return;
          await this.retention.prune({
            applicationId: plan.applicationId,
            backupId: plan.backup.id,
            connection: plan.target.connection,
            node: plan.target.node,
            report: plan.report,
          });
        }),
      ],
      [OperationType.Restore]: [
        step('stop_container', async (plan) => {
          await container.stopContainer(plan);
        }),
        step('restore_archive', (plan) => this.restoreArchive(plan)),
        ...restart.map(deployStep),
      ],
      [OperationType.BackupDelete]: [
        step('delete_archive', async (plan) => {
          if (plan.backup.volid === null) return;
          await this.archives.remove(plan.target.connection, plan.target.node, plan.backup.volid);
        }),
      ],
    };
  }

  /** The steps of the operation; a restore of an application that was not running leaves it stopped. */
  of(type: BackupOperationType, startAfterRestore: boolean): readonly BackupStep[] {
    const steps = this.plans[type];
    return type === OperationType.Restore && !startAfterRestore ? steps.slice(0, 2) : steps;
  }

  private async vzdump(plan: BackupPlan): Promise<void> {
    const { connection, node } = plan.target;
    let upid = plan.backup.taskUpid;
    if (upid === null) {
      upid = await this.gateway.vzdump(connection, {
        node,
        vmid: plan.vmid,
        storage: plan.backup.storage,
        mode: plan.backup.mode,
        compress: plan.backup.compress,
        lockWaitMinutes: lockWaitWithin(plan.deadlineAt),
      });
      await this.keepUpid(plan, upid);
    }
    try {
      await this.waitShowingLock(plan, upid);
    } catch (error) {
      if (error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.TaskFailed) {
        // The next attempt starts a new task rather than waiting on this one again.
        await this.keepUpid(plan, null);
        throw new BackupStepError('the backup task failed on Proxmox', error.failureClass, {
          cause: error,
        });
      }
      // The wait failed, not the task (a dropped connection, a 5xx): it may still write its
      // archive, so the next attempt waits on it; a second vzdump would leave one no row knows.
      throw error;
    }
  }

  /**
   * Waits for the vzdump task; while it waits for the node's vzdump lock
   * (another backup runs there) the operation's log says so, once.
   */
  private async waitShowingLock(plan: BackupPlan, upid: string): Promise<void> {
    const { connection, node } = plan.target;
    const wait = this.gateway.waitForTask(connection, upid, {
      deadlineMs: Math.max(1000, plan.deadlineAt - Date.now()),
      pollMs: Math.min(this.timings.pollMs, 1000),
    });
    let ended = false;
    const watch = (async () => {
      let waiting = false;
      while (!ended) {
        const log = await this.gateway.taskLog(connection, upid).catch(() => []);
        if (!waiting && log.some((l) => l.includes(WAITING))) {
          waiting = true;
          await plan.report(`waiting for another backup on node ${node} to finish`);
        }
        if (waiting && log.some((l) => l.includes(GOT_LOCK))) {
          await plan.report(`the other backup on node ${node} has finished; backing up`);
          return;
        }
        if (log.some((l) => l.includes('starting new backup job'))) return;
        await sleep(Math.min(this.timings.pollMs, 1000));
      }
    })();
    try {
      await wait;
    } finally {
      ended = true;
      await watch;
    }
  }

  private async recordArchive(plan: BackupPlan): Promise<void> {
    const { connection, node } = plan.target;
    if (plan.backup.volid !== null) return;
    const upid = plan.backup.taskUpid;
    if (upid === null) throw this.noArchive();
    const name = (await this.gateway.taskLog(connection, upid))
      .map((line) => ARCHIVE.exec(line)?.[1])
      .find((n) => n !== undefined);
    if (!name) throw this.noArchive();
    const volumes = await this.gateway.listBackups(
      connection,
      { node, vmid: plan.vmid },
      plan.backup.storage,
    );
    const volume = volumes.find((v) => v.volid.endsWith(`/${name}`));
    if (!volume) throw this.noArchive();
    await this.em
      .fork()
      .nativeUpdate(
        Backup,
        { id: plan.backup.id },
        { volid: volume.volid, sizeBytes: volume.size },
      );
  }

  private async restoreArchive(plan: BackupPlan): Promise<void> {
    const { connection, node } = plan.target;
    if (plan.backup.volid === null) throw this.noArchive();
    const upid = await this.gateway.restoreContainer(connection, {
      node,
      vmid: plan.vmid,
      archive: plan.backup.volid,
      storage: plan.container.storage,
    });
    await this.gateway.waitForTask(connection, upid, {
      deadlineMs: this.timings.taskDeadlineMs,
      pollMs: Math.min(this.timings.pollMs, 1000),
    });
  }

  private async keepUpid(plan: BackupPlan, upid: string | null): Promise<void> {
    plan.backup.taskUpid = upid;
    await this.em.fork().nativeUpdate(Backup, { id: plan.backup.id }, { taskUpid: upid });
  }

  private noArchive(): BackupStepError {
    return new BackupStepError('the backup task wrote no archive that Proximity could find');
  }
}
