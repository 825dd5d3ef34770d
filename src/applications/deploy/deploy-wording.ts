import { ProxmoxError } from '../../proxmox/gateway/proxmox-error';
import { NodeShellError, NodeShellErrorKind, scrubSecrets } from '../../proxmox/shell/shell-errors';
import { ForwardingConflictError } from '../../ports/forwarding-rules';
import { DeployStepError } from './deploy-errors';

const SHELL_WORDING: Record<NodeShellErrorKind, string> = {
  [NodeShellErrorKind.InvalidInput]: 'a command for the node was refused before it was sent',
  [NodeShellErrorKind.HostKeyNotPinned]: 'the host has no pinned SSH host key',
  [NodeShellErrorKind.HostKeyMismatch]:
    'the node presented an SSH host key that is not the pinned one',
  [NodeShellErrorKind.AuthFailed]: 'the node refused the SSH credentials',
  [NodeShellErrorKind.Unreachable]: 'the node is unreachable over SSH',
  [NodeShellErrorKind.ConnectTimeout]: 'the SSH connection to the node timed out',
  [NodeShellErrorKind.CommandTimeout]: 'a command on the node did not finish in time',
  [NodeShellErrorKind.ConnectionLost]: 'the SSH connection to the node dropped',
  [NodeShellErrorKind.CommandFailed]: 'a command on the node failed',
  [NodeShellErrorKind.ProtocolError]: 'the SSH session with the node failed',
};

/**
 * Proximity's wording of a step failure, for the log, the operation and
 * `lastError`. Only texts we wrote ourselves: Proxmox's and the shell's
 * own output stay in the server log.
 */
export function describeFailure(error: unknown): string {
  if (error instanceof DeployStepError || error instanceof ForwardingConflictError) {
    return error.message;
  }
  if (error instanceof ProxmoxError) return error.message;
  if (error instanceof NodeShellError) return SHELL_WORDING[error.kind];
  return 'an unexpected error occurred';
}

/** The raw failure for the server log only (with the operation id), scrubbed of the run's secrets. */
export function rawFailure(error: unknown, secrets: readonly string[]): Record<string, unknown> {
  if (error instanceof ProxmoxError) {
    return {
      kind: error.kind,
      status: error.status,
      upstream: scrubSecrets(error.upstream, secrets),
    };
  }
  return {
    name: error instanceof Error ? error.name : 'unknown',
    message: scrubSecrets(String(error), secrets),
  };
}
