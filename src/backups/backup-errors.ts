import { classifyFailure, type FailureClass } from '../applications/deploy/deploy-errors';
import { describeFailure } from '../applications/deploy/deploy-wording';

/** A backup step's own failure; its message is ours. */
export class BackupStepError extends Error {
  constructor(
    message: string,
    readonly failureClass: FailureClass = 'permanent',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'BackupStepError';
  }
}

/** Proximity's wording of a backup, restore or backup-delete failure. */
export function describeBackupFailure(error: unknown): string {
  return error instanceof BackupStepError ? error.message : describeFailure(error);
}

export function classifyBackupFailure(error: unknown): FailureClass {
  return error instanceof BackupStepError ? error.failureClass : classifyFailure(error);
}
