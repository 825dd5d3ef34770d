/** What went wrong talking to Proxmox, in terms a caller can act on. */
export enum ProxmoxErrorKind {
  NotFound = 'not_found',
  AlreadyExists = 'already_exists',
  Locked = 'locked',
  /** A lock wait that ran out: a config lock (`can't lock file … got timeout`) or vzdump's global lock. */
  Busy = 'busy',
  WrongState = 'wrong_state',
  InvalidRequest = 'invalid_request',
  PermissionDenied = 'permission_denied',
  AuthFailed = 'auth_failed',
  TlsRejected = 'tls_rejected',
  /** The host has no TLS pin and no explicit opt-out: refused before connecting. */
  TlsNotPinned = 'tls_not_pinned',
  /** The answer went past the size Proximity reads; the read was aborted. */
  AnswerTooLarge = 'answer_too_large',
  Unreachable = 'unreachable',
  Timeout = 'timeout',
  TaskFailed = 'task_failed',
  Failed = 'failed',
}

const WORDING: Record<ProxmoxErrorKind, string> = {
  [ProxmoxErrorKind.NotFound]: 'Proxmox does not know the requested object',
  [ProxmoxErrorKind.AlreadyExists]: 'Proxmox says the object already exists',
  [ProxmoxErrorKind.Locked]: 'the container is locked by another Proxmox task',
  [ProxmoxErrorKind.Busy]: 'Proxmox is busy with another task on this container or node',
  [ProxmoxErrorKind.WrongState]: 'the container is not in a state that allows this',
  [ProxmoxErrorKind.InvalidRequest]: 'Proxmox refused the request parameters',
  [ProxmoxErrorKind.PermissionDenied]: 'the Proxmox credentials lack a required permission',
  [ProxmoxErrorKind.AuthFailed]: 'Proxmox rejected the credentials',
  [ProxmoxErrorKind.TlsRejected]: 'the Proxmox TLS certificate does not match the pinned one',
  [ProxmoxErrorKind.TlsNotPinned]:
    'the host has no TLS fingerprint or CA certificate, and insecure TLS is not enabled',
  [ProxmoxErrorKind.AnswerTooLarge]: 'Proxmox sent an answer larger than Proximity accepts',
  [ProxmoxErrorKind.Unreachable]: 'the Proxmox host is unreachable',
  [ProxmoxErrorKind.Timeout]: 'Proxmox did not answer in time',
  [ProxmoxErrorKind.TaskFailed]: 'a Proxmox task failed',
  [ProxmoxErrorKind.Failed]: 'Proxmox reported an error',
};

/**
 * A failed Proxmox call. `message` is our own wording and safe to show;
 * `upstream` keeps Proxmox's text (and task log tail) for the server log only.
 */
export class ProxmoxError extends Error {
  /** For TaskFailed: what the task's exit status says went wrong (Failed when it says nothing we know). */
  readonly taskReason: ProxmoxErrorKind | null;

  constructor(
    readonly kind: ProxmoxErrorKind,
    readonly upstream: string,
    readonly status: number | null = null,
    options?: { cause?: unknown; taskReason?: ProxmoxErrorKind },
  ) {
    super(WORDING[kind], options);
    this.name = 'ProxmoxError';
    this.taskReason = options?.taskReason ?? null;
  }

  /** What a job should do about this failure; see `failureClassOf`. */
  get failureClass(): FailureClass {
    return failureClassOf(this.kind, this.status, this.taskReason);
  }

  /** True for failures a retry of an idempotent read may cure. */
  get transient(): boolean {
    return this.kind === ProxmoxErrorKind.Unreachable || this.kind === ProxmoxErrorKind.Timeout;
  }
}

/** Classifies an HTTP error answer by its status and Proxmox's reason text. */
export function classifyHttpError(status: number, reason: string): ProxmoxErrorKind {
  if (status === 401) return ProxmoxErrorKind.AuthFailed;
  if (status === 403) return ProxmoxErrorKind.PermissionDenied;
  if (status === 400 || status === 501) {
    return /already exists/i.test(reason)
      ? ProxmoxErrorKind.AlreadyExists
      : ProxmoxErrorKind.InvalidRequest;
  }
  if (status >= 595) return ProxmoxErrorKind.Unreachable;
  return classifyFailureText(reason);
}

/** Classifies a die() text (HTTP 500 reason or a task's exit status). */
export function classifyFailureText(text: string): ProxmoxErrorKind {
  // Before "does not exist": a lock file's path can hold any of these words.
  if (/can't (lock file|acquire lock) .*got timeout/is.test(text)) return ProxmoxErrorKind.Busy;
  if (/does not exist|no such|not found/i.test(text)) return ProxmoxErrorKind.NotFound;
  if (/already exists/i.test(text)) return ProxmoxErrorKind.AlreadyExists;
  if (/is locked|CT is locked|VM is locked/i.test(text)) return ProxmoxErrorKind.Locked;
  if (/not running|already running|is running|container is running/i.test(text)) {
    return ProxmoxErrorKind.WrongState;
  }
  return ProxmoxErrorKind.Failed;
}

/**
 * How a job treats a failure: `retryable` may succeed later unchanged (a lock
 * wait ran out, a 5xx, a dropped or slow connection); `permanent` will fail the
 * same way again (refused parameters, credentials, a missing object);
 * `vmid_conflict` means the VMID is taken and only another VMID can help.
 */
export type FailureClass = 'retryable' | 'permanent' | 'vmid_conflict';

const RETRYABLE_KINDS = new Set<ProxmoxErrorKind>([
  ProxmoxErrorKind.Busy,
  ProxmoxErrorKind.Locked,
  ProxmoxErrorKind.Unreachable,
  ProxmoxErrorKind.Timeout,
]);

export function failureClassOf(
  kind: ProxmoxErrorKind,
  status: number | null,
  taskReason: ProxmoxErrorKind | null = null,
): FailureClass {
  if (kind === ProxmoxErrorKind.AlreadyExists) return 'vmid_conflict';
  if (RETRYABLE_KINDS.has(kind)) return 'retryable';
  if (kind === ProxmoxErrorKind.TaskFailed) {
    // A task that failed for a reason we know is classed by that reason; any
    // other task failure (storage hiccup, a start that did not come up) may
    // well pass on the next attempt, which the job's bound keeps cheap.
    if (taskReason === null || taskReason === ProxmoxErrorKind.Failed) return 'retryable';
    return failureClassOf(taskReason, null);
  }
  // A 500 whose text names no known refusal: pveproxy or the daemon failed.
  if (kind === ProxmoxErrorKind.Failed && status !== null && status >= 500) return 'retryable';
  return 'permanent';
}
