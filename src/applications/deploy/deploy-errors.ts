import { DomainError } from '../../common/errors/domain-error';
import { type FailureClass, ProxmoxError } from '../../proxmox/gateway/proxmox-error';
import { NodeShellError, NodeShellErrorKind } from '../../proxmox/shell/shell-errors';
import { scrubSecrets } from '../../proxmox/shell/shell-errors';
import { ForwardingConflictError } from '../../ports/forwarding-rules';

export type { FailureClass } from '../../proxmox/gateway/proxmox-error';

export enum DeployErrorCode {
  /** The VMID holds a guest that is not this application's. */
  VmidConflict = 'VMID_CONFLICT',
  /** A create of ours was still under way (lock `create`) past the deadline, or vanished. */
  CreateUnfinished = 'CREATE_UNFINISHED',
  NotRunning = 'NOT_RUNNING',
  StillRunning = 'STILL_RUNNING',
  NoAddress = 'NO_ADDRESS',
  ServicesDown = 'SERVICES_DOWN',
  PortsSilent = 'PORTS_SILENT',
}

const CLASS_OF: Record<DeployErrorCode, FailureClass> = {
  [DeployErrorCode.VmidConflict]: 'vmid_conflict',
  [DeployErrorCode.CreateUnfinished]: 'retryable',
  [DeployErrorCode.NotRunning]: 'retryable',
  [DeployErrorCode.StillRunning]: 'retryable',
  [DeployErrorCode.NoAddress]: 'retryable',
  [DeployErrorCode.ServicesDown]: 'retryable',
  [DeployErrorCode.PortsSilent]: 'retryable',
};

/** A step's own failure; its message is ours and safe to show (it names catalog data at most). */
export class DeployStepError extends Error {
  constructor(
    readonly code: DeployErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DeployStepError';
  }

  get failureClass(): FailureClass {
    return CLASS_OF[this.code];
  }
}

const PERMANENT_SHELL = new Set<NodeShellErrorKind>([
  NodeShellErrorKind.InvalidInput,
  NodeShellErrorKind.HostKeyNotPinned,
  NodeShellErrorKind.HostKeyMismatch,
  NodeShellErrorKind.AuthFailed,
]);

/**
 * What the step runner should do with a step's failure. SSH commands that
 * ran and failed (an apt mirror, a registry pull) count as retryable: the
 * attempts are bounded. Errors we do not know are bugs: permanent.
 */
export function classifyFailure(error: unknown): FailureClass {
  if (error instanceof DeployStepError || error instanceof ProxmoxError) return error.failureClass;
  if (error instanceof NodeShellError) {
    return PERMANENT_SHELL.has(error.kind) ? 'permanent' : 'retryable';
  }
  if (error instanceof ForwardingConflictError || error instanceof DomainError) return 'permanent';
  return 'permanent';
}

/** A ProxmoxError whose server-log text can no longer hold a secret of this call. */
export function scrubbed(error: unknown, secrets: readonly string[]): Error {
  if (!(error instanceof ProxmoxError)) {
    return error instanceof Error ? error : new Error('non-error thrown', { cause: error });
  }
  return new ProxmoxError(error.kind, scrubSecrets(error.upstream, secrets), error.status, {
    taskReason: error.taskReason ?? undefined,
  });
}
