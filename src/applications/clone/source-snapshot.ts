import { sleep } from '../../common/time/poll';
import { Injectable } from '@nestjs/common';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { type ContainerRef, ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import type { DeployTarget } from '../deploy/container.steps';
import { DeployTimings } from '../deploy/deploy-timings';

export interface SourceSnapshotInput {
  target: DeployTarget;
  source: ContainerRef;
  /** `temporarySnapshotName(operationId)`: the reconciler can tell whose it is. */
  name: string;
}

/** A refusal because the container holds a lock (the clone's `disk`, a backup's), at once or in the task. */
function isLocked(error: unknown): boolean {
  return (
    error instanceof ProxmoxError &&
    (error.kind === ProxmoxErrorKind.Locked || error.taskReason === ProxmoxErrorKind.Locked)
  );
}

/**
 * Runs an idempotent piece of work on the source again while Proxmox refuses
 * it for a lock (another clone's snapshot or copy, a backup), up to the
 * deadline: such locks last as long as their task, which a retry of the
 * whole job with its short backoff would not outwait.
 */
export async function waitingOutLocks<T>(
  timings: DeployTimings,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + timings.createLockDeadlineMs;
  for (;;) {
    try {
      return await work();
    } catch (error) {
      if (!isLocked(error) || Date.now() + timings.pollMs > deadline) throw error;
    }
    await sleep(timings.pollMs);
  }
}

/**
 * The temporary snapshot a clone of a running container copies from: Proxmox
 * makes a full clone of a running container only from a snapshot. Both
 * steps look first at what exists, so a retry is safe.
 */
@Injectable()
export class SourceSnapshot {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly timings: DeployTimings,
  ) {}

  /** Takes the snapshot when the source runs; null when it does not (a stopped source is copied as is). */
  take(input: SourceSnapshotInput): Promise<string | null> {
    return waitingOutLocks(this.timings, async () => {
      const { connection } = input.target;
      if (await this.exists(input)) return input.name;
      if ((await this.gateway.containerStatus(connection, input.source)).status !== 'running') {
        return null;
      }
      await this.gateway.waitForTask(
        connection,
        await this.gateway.createSnapshot(connection, input.source, input.name),
        this.taskWait(),
      );
      return input.name;
    });
  }

  /** The snapshot when it exists (an earlier attempt took it), else null. */
  async find(input: SourceSnapshotInput): Promise<string | null> {
    return (await this.exists(input)) ? input.name : null;
  }

  /**
   * Removes the snapshot; done when it is gone. Proxmox refuses to delete a
   * snapshot of a locked container even with `force`, so a lock (the clone
   * task's `disk` lingering, a backup) is waited out, up to the deadline.
   */
  remove(input: SourceSnapshotInput): Promise<{ removed: boolean }> {
    return waitingOutLocks(this.timings, async () => {
      if (!(await this.exists(input))) return { removed: false };
      const { connection } = input.target;
      await this.gateway.waitForTask(
        connection,
        await this.gateway.deleteSnapshot(connection, input.source, input.name),
        this.taskWait(),
      );
      return { removed: true };
    });
  }

  private async exists(input: SourceSnapshotInput): Promise<boolean> {
    try {
      const names = await this.gateway.listSnapshots(input.target.connection, input.source);
      return names.includes(input.name);
    } catch (error) {
      // The source is gone, and its snapshots with it.
      if (error instanceof ProxmoxError && error.kind === ProxmoxErrorKind.NotFound) return false;
      throw error;
    }
  }

  private taskWait() {
    return { deadlineMs: this.timings.taskDeadlineMs, pollMs: Math.min(this.timings.pollMs, 1000) };
  }
}
