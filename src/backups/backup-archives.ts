import { Injectable } from '@nestjs/common';
import type { ProxmoxConnection } from '../proxmox/gateway/proxmox-connection';
import { ProxmoxError, ProxmoxErrorKind } from '../proxmox/gateway/proxmox-error';
import { ProxmoxGateway } from '../proxmox/gateway/proxmox-gateway';
import { DeployTimings } from '../applications/deploy/deploy-timings';

function isNotFound(error: unknown): boolean {
  if (!(error instanceof ProxmoxError)) return false;
  return (
    error.kind === ProxmoxErrorKind.NotFound ||
    (error.kind === ProxmoxErrorKind.TaskFailed && error.taskReason === ProxmoxErrorKind.NotFound)
  );
}

/** Removes backup archives from storage; an archive that is gone already counts as removed. */
@Injectable()
export class BackupArchives {
  constructor(
    private readonly gateway: ProxmoxGateway,
    private readonly timings: DeployTimings,
  ) {}

  async remove(connection: ProxmoxConnection, node: string, volid: string): Promise<void> {
    try {
      await this.gateway.waitForTask(
        connection,
        await this.gateway.deleteVolume(connection, node, volid),
        { deadlineMs: this.timings.taskDeadlineMs, pollMs: Math.min(this.timings.pollMs, 1000) },
      );
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
