import { NodeShellError, NodeShellErrorKind, scrubSecrets } from './shell-errors';

export type ShellAuth = { privateKey: string; passphrase?: string } | { password: string };

/** Pinned OpenSSH fingerprint (`SHA256:…`), or an explicit, visible opt-out. */
export type HostKeyPolicy = { fingerprint: string } | { insecure: true };

export interface ShellEndpoint {
  host: string;
  port: number;
  username: string;
  auth: ShellAuth;
  hostKey: HostKeyPolicy;
  /** TCP connect + SSH handshake + authentication; default 10 s. */
  connectTimeoutMs?: number;
}

/**
 * Where a command runs. Direct (the default): `host` is the address of the
 * node that holds the container, resolved by the caller from the cluster;
 * `node` only names it in errors. Hop: `host` is any node of the cluster and
 * each command is relayed with `ssh -o BatchMode=yes -- <node> <line>`, as
 * root on Proxmox nodes may do (cluster nodes trust each other's root key).
 */
export type ShellTarget = ShellEndpoint &
  ({ via?: 'direct'; node?: string } | { via: 'hop'; node: string });

export interface ShellCommand {
  /** Program and arguments; quoted by `quoteArgv`, never interpreted by a shell. */
  argv: readonly string[];
  /** Written to the command's stdin, which is then closed (closed at once when absent). */
  stdin?: string | Buffer;
  /** From the start of the command to its exit status; on expiry the connection is closed. */
  timeoutMs: number;
  /** Per stream (stdout, stderr); more is drained and dropped. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Values replaced by `********` in any output placed in an error message. */
  secrets?: readonly string[];
}

export interface ShellResult {
  /** The exit status; 128 + signal number when the command was killed by a signal. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** True when stdout or stderr went past `maxOutputBytes` and was cut. */
  truncated: boolean;
  /** `SIGKILL`, … when the command was killed by a signal. */
  signal?: string;
}

/** Several commands over one connection, which `withSession` closes when the work ends. */
export interface ShellSession {
  /** What the server presented; with `insecure` this is the value to pin. */
  readonly hostKeyFingerprint: string;
  run(command: ShellCommand): Promise<ShellResult>;
  runChecked(command: ShellCommand): Promise<ShellResult>;
}

export const DEFAULT_MAX_OUTPUT_BYTES = 1024 * 1024;
const STDERR_TAIL_LINES = 5;
const STDERR_TAIL_CHARS = 500;

/** `pve2 (10.0.0.2:22)` or `10.0.0.2:22`, for messages. */
export function describeTarget(target: ShellTarget): string {
  const endpoint = `${target.host}:${target.port}`;
  return target.node === undefined ? endpoint : `${target.node} (${endpoint})`;
}

/** Non-zero exit → CommandFailed with the scrubbed end of stderr (secrets of the command and the login). */
export function checkExit(
  result: ShellResult,
  target: ShellTarget,
  command: ShellCommand,
): ShellResult {
  if (result.exitCode === 0) return result;
  const secrets = [...(command.secrets ?? [])];
  if ('password' in target.auth) secrets.push(target.auth.password);
  const lines = result.stderr.trimEnd().split('\n').slice(-STDERR_TAIL_LINES).join('\n');
  const stderrTail = scrubSecrets(lines, secrets).slice(-STDERR_TAIL_CHARS);
  throw new NodeShellError(
    NodeShellErrorKind.CommandFailed,
    `Command on ${describeTarget(target)} exited with status ${result.exitCode}`,
    {
      endpoint: `${target.host}:${target.port}`,
      node: target.node,
      exitCode: result.exitCode,
      stderrTail,
    },
  );
}

/**
 * Runs commands on a Proxmox node. A non-zero exit code is a result, not an
 * exception: callers decide (or use `runChecked`). Every failure is a
 * NodeShellError; the connection is closed when the returned promise settles.
 */
export abstract class NodeShell {
  /** One command on its own connection. */
  abstract run(target: ShellTarget, command: ShellCommand): Promise<ShellResult>;

  /**
   * Several commands on one connection. This default opens one per command,
   * so a test double only has to implement `run`; adapters override it.
   */
  withSession<T>(target: ShellTarget, work: (session: ShellSession) => Promise<T>): Promise<T> {
    const session: ShellSession = {
      hostKeyFingerprint: 'fingerprint' in target.hostKey ? target.hostKey.fingerprint : '',
      run: (command) => this.run(target, command),
      runChecked: (command) => this.runChecked(target, command),
    };
    return work(session);
  }

  async runChecked(target: ShellTarget, command: ShellCommand): Promise<ShellResult> {
    return checkExit(await this.run(target, command), target, command);
  }
}
