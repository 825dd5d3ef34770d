import { describeTarget, ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorDetails, NodeShellErrorKind } from './shell-errors';

/** What ssh2 adds to the errors it emits: where it failed, and the socket's errno code. */
interface Ssh2Error extends Error {
  level?: string;
  code?: string;
}

export function targetError(
  target: ShellTarget,
  kind: NodeShellErrorKind,
  message: string,
  details: NodeShellErrorDetails = {},
  cause?: unknown,
): NodeShellError {
  const endpoint = `${target.host}:${target.port}`;
  return new NodeShellError(kind, message, { endpoint, node: target.node, ...details }, cause);
}

/**
 * An error ssh2 emitted before the connection was ready, in our words (the
 * original stays the cause). `refusedFingerprint` is set when our host key
 * check said no, whatever ssh2's wording for it.
 */
export function connectError(
  error: Error,
  target: ShellTarget,
  refusedFingerprint: string | null,
): NodeShellError {
  const where = describeTarget(target);
  const fail = (kind: NodeShellErrorKind, message: string, details: NodeShellErrorDetails = {}) =>
    targetError(target, kind, message, details, error);
  if (refusedFingerprint !== null) {
    return fail(
      NodeShellErrorKind.HostKeyMismatch,
      `The SSH host key of ${where} does not match the pinned fingerprint`,
      { presentedFingerprint: refusedFingerprint },
    );
  }
  const { level, code } = error as Ssh2Error;
  switch (level) {
    case 'client-authentication':
      return fail(NodeShellErrorKind.AuthFailed, `SSH authentication to ${where} failed`);
    case 'client-timeout':
      return fail(NodeShellErrorKind.ConnectTimeout, `SSH connection to ${where} timed out`);
    case 'client-socket':
    case 'client-dns': {
      const errno = /^E[A-Z_]+$/.test(code ?? '') ? ` (${code})` : '';
      return fail(NodeShellErrorKind.Unreachable, `SSH server ${where} is unreachable${errno}`);
    }
    default:
      return fail(NodeShellErrorKind.ProtocolError, `SSH handshake with ${where} failed`);
  }
}
