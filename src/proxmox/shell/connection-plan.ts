import { ParsedKey, utils } from 'ssh2';
import { normalizeFingerprint } from './host-key';
import { describeTarget, ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Everything checked before a socket is opened. */
export interface ConnectionPlan {
  host: string;
  port: number;
  username: string;
  /** The pinned fingerprint, or null for an explicit `insecure: true`. */
  pin: string | null;
  credentials: { password: string } | { privateKey: string; passphrase?: string };
  connectTimeoutMs: number;
}

function hostKeyPin(target: ShellTarget): string | null {
  const policy: unknown = target.hostKey;
  // Checked at run time too: the policy comes from a database row, where a
  // missing pin may arrive as an empty string or null despite the type.
  if (typeof policy === 'object' && policy !== null) {
    if ('insecure' in policy && policy.insecure === true) return null;
    if ('fingerprint' in policy && typeof policy.fingerprint === 'string') {
      const pin = normalizeFingerprint(policy.fingerprint);
      if (pin !== null) return pin;
    }
  }
  throw new NodeShellError(
    NodeShellErrorKind.HostKeyNotPinned,
    `No valid SSH host key fingerprint is pinned for ${describeTarget(target)}, and insecure SSH was not enabled`,
    { endpoint: `${target.host}:${target.port}`, node: target.node },
  );
}

function credentials(target: ShellTarget): ConnectionPlan['credentials'] {
  const auth = target.auth;
  if ('privateKey' in auth) {
    // Parsed here so that an unusable key fails before connecting, with our
    // own message: the parser's may quote parts of the key file.
    const parsed: ParsedKey | ParsedKey[] | Error = utils.parseKey(
      auth.privateKey,
      auth.passphrase,
    );
    // ssh2 returns an array for a file holding several keys; its typings do not say so.
    const key: ParsedKey | Error | undefined = Array.isArray(parsed)
      ? (parsed as ParsedKey[])[0]
      : parsed;
    if (key === undefined || key instanceof Error || key.getPrivatePEM() === null) {
      throw new NodeShellError(
        NodeShellErrorKind.AuthFailed,
        `The SSH private key for ${describeTarget(target)} could not be read (format or passphrase)`,
        { endpoint: `${target.host}:${target.port}`, node: target.node },
      );
    }
    return { privateKey: auth.privateKey, passphrase: auth.passphrase };
  }
  return { password: auth.password };
}

export function planConnection(target: ShellTarget): ConnectionPlan {
  const invalid = (message: string) => new NodeShellError(NodeShellErrorKind.InvalidInput, message);
  if (typeof target.host !== 'string' || target.host.trim() === '') {
    throw invalid('The SSH host is empty');
  }
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65_535) {
    throw invalid('The SSH port must be between 1 and 65535');
  }
  const connectTimeoutMs = target.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isInteger(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw invalid('The SSH connect timeout must be a positive number of milliseconds');
  }
  return {
    host: target.host,
    port: target.port,
    username: target.username,
    pin: hostKeyPin(target),
    credentials: credentials(target),
    connectTimeoutMs,
  };
}
