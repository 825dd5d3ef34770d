export enum NodeShellErrorKind {
  /** The command or target is unusable (empty argv, NUL byte, bad timeout, bad node name); nothing was sent. */
  InvalidInput = 'INVALID_INPUT',
  /** No usable host key fingerprint and no explicit `insecure`: refused before connecting. */
  HostKeyNotPinned = 'HOST_KEY_NOT_PINNED',
  HostKeyMismatch = 'HOST_KEY_MISMATCH',
  AuthFailed = 'AUTH_FAILED',
  /** Connection refused, host or network unreachable, name not resolved. */
  Unreachable = 'UNREACHABLE',
  ConnectTimeout = 'CONNECT_TIMEOUT',
  CommandTimeout = 'COMMAND_TIMEOUT',
  /** The connection dropped while it was in use. */
  ConnectionLost = 'CONNECTION_LOST',
  /** `runChecked` only: the command ended with a non-zero exit code. */
  CommandFailed = 'COMMAND_FAILED',
  /** Anything else SSH-level: no common algorithm, channel refused, no exit status. */
  ProtocolError = 'PROTOCOL_ERROR',
}

/** Worth a retry by the job framework: the same command may well succeed later. */
const TRANSIENT = new Set<NodeShellErrorKind>([
  NodeShellErrorKind.Unreachable,
  NodeShellErrorKind.ConnectTimeout,
  NodeShellErrorKind.CommandTimeout,
  NodeShellErrorKind.ConnectionLost,
]);

export interface NodeShellErrorDetails {
  /** `host:port` of the SSH endpoint. */
  endpoint?: string;
  node?: string;
  exitCode?: number;
  /** Last lines of stderr, already scrubbed of the command's secrets. */
  stderrTail?: string;
  /** The fingerprint the server presented (public information, for pinning it). */
  presentedFingerprint?: string;
}

/**
 * Every failure of NodeShell. Messages are written here, never copied from
 * ssh2 or the remote side (except the scrubbed stderr tail of CommandFailed),
 * so they carry no password, key or command argument; the original error is
 * kept in `cause` for the server log only.
 */
export class NodeShellError extends Error {
  constructor(
    readonly kind: NodeShellErrorKind,
    message: string,
    readonly details: NodeShellErrorDetails = {},
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'NodeShellError';
  }

  get transient(): boolean {
    return TRANSIENT.has(this.kind);
  }
}

export const SCRUBBED = '********';

/** Replaces every occurrence of each secret (longest first, so overlapping secrets cannot leave a part). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  const ordered = [...new Set(secrets)].filter((s) => s !== '').sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of ordered) result = result.split(secret).join(SCRUBBED);
  return result;
}
