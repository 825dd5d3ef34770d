import { constants } from 'node:os';
import { Socket } from 'node:net';
import { Client, ClientChannel } from 'ssh2';
import { CappedOutput } from './capped-output';
import { ConnectionPlan } from './connection-plan';
import { sameFingerprint, sshFingerprint } from './host-key';
import {
  DEFAULT_MAX_OUTPUT_BYTES,
  describeTarget,
  ShellCommand,
  ShellResult,
  ShellTarget,
} from './node-shell';
import { NodeShellError, NodeShellErrorDetails, NodeShellErrorKind } from './shell-errors';
import { connectError, targetError } from './ssh2-errors';

/** How long a polite close (SSH disconnect + FIN) may wait for the server before the socket is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * One ssh2 connection over a socket this class owns, so that it can always
 * be destroyed: ssh2's own `destroy()` does nothing once the socket stopped
 * being writable. `open()` rejects only once its socket is closed; after a
 * command failed, `destroy()` (or `close()`) resolves once it is.
 */
export class Ssh2Connection {
  private readonly closed: Promise<void>;
  private isClosed = false;
  private lastError: Error | undefined;
  private readonly onLost = new Set<() => void>();
  hostKeyFingerprint = '';

  private constructor(
    private readonly client: Client,
    private readonly socket: Socket,
    private readonly target: ShellTarget,
  ) {
    // Registered before ssh2's own listeners (added by client.connect), so a
    // running command learns that the connection is gone before ssh2 closes
    // its channel.
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        for (const notify of [...this.onLost]) notify();
        resolve();
      });
    });
  }

  /** Connects, verifies the host key, authenticates; rejects only once the socket is closed. */
  static open(
    plan: ConnectionPlan,
    target: ShellTarget,
    socket: Socket,
    client: Client,
  ): Promise<Ssh2Connection> {
    const connection = new Ssh2Connection(client, socket, target);
    return new Promise((resolve, reject) => {
      let ready = false;
      let refusedKey = false;
      let failure: NodeShellError | undefined;
      client.on('error', (error: Error) => {
        connection.lastError ??= error;
        if (ready) return; // the 'close' that follows reaches the running command
        failure ??= connectError(error, target, refusedKey ? connection.hostKeyFingerprint : null);
        socket.destroy();
      });
      client.once('ready', () => {
        ready = true;
        resolve(connection);
      });
      void connection.closed.then(() => {
        if (!ready) {
          reject(
            failure ??
              connection.error(
                NodeShellErrorKind.ConnectionLost,
                'The SSH server closed the connection during the handshake',
              ),
          );
        }
      });
      try {
        // Without it every command waits for a delayed ACK (Nagle), about 40 ms.
        socket.setNoDelay(true);
        socket.connect({ host: plan.host, port: plan.port });
        client.connect({
          sock: socket,
          username: plan.username,
          ...plan.credentials,
          tryKeyboard: false,
          readyTimeout: plan.connectTimeoutMs,
          hostVerifier: (key: Buffer) => {
            connection.hostKeyFingerprint = sshFingerprint(key);
            if (plan.pin === null) return true;
            refusedKey = !sameFingerprint(connection.hostKeyFingerprint, plan.pin);
            return !refusedKey;
          },
        });
      } catch (error) {
        // A configuration ssh2 refuses: still reject only once the socket is closed.
        connection.lastError ??= error instanceof Error ? error : undefined;
        failure ??= connection.error(
          NodeShellErrorKind.ProtocolError,
          `The SSH connection to ${describeTarget(target)} could not be started`,
        );
        socket.destroy();
      }
    });
  }

  /** Runs one command line; a non-zero exit is a result. */
  exec(line: string, command: ShellCommand): Promise<ShellResult> {
    if (this.gone) {
      return Promise.reject(
        this.error(NodeShellErrorKind.ConnectionLost, 'The SSH connection is already closed'),
      );
    }
    const limit = command.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const stdout = new CappedOutput(limit);
    const stderr = new CappedOutput(limit);
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (outcome: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.onLost.delete(lost);
        outcome();
      };
      const fail = (kind: NodeShellErrorKind, message: string, cause?: Error): void =>
        settle(() => reject(this.error(kind, message, {}, cause ?? this.lastError)));
      const lost = (): void =>
        fail(
          NodeShellErrorKind.ConnectionLost,
          'The SSH connection was lost while the command ran',
        );
      const timer = setTimeout(() => {
        fail(
          NodeShellErrorKind.CommandTimeout,
          `The command did not finish within ${command.timeoutMs} ms`,
        );
        // Closing the connection is the only sure way to stop waiting on the
        // command (it may keep running on the node); the session is unusable afterwards.
        this.socket.destroy();
      }, command.timeoutMs);
      this.onLost.add(lost);

      const onChannel = (error: Error | undefined, channel: ClientChannel): void => {
        if (error) {
          if (this.gone) lost();
          else
            fail(
              NodeShellErrorKind.ProtocolError,
              'The SSH server refused to run the command',
              error,
            );
          return;
        }
        let exit: { code: number | null; signal?: string } | undefined;
        // ssh2 closes the channel once stdout ended; stderr may still be ending.
        let open = 2;
        const closed = (): void => {
          if (--open > 0) return;
          if (this.gone) lost();
          else if (exit === undefined)
            fail(NodeShellErrorKind.ProtocolError, 'The command ended without an exit status');
          else {
            const result = toResult(exit, stdout, stderr);
            settle(() => resolve(result));
          }
        };
        channel.on('data', (chunk: Buffer) => stdout.push(chunk));
        channel.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
        // Write errors after the remote side went away also end in 'close'.
        channel.on('error', () => undefined);
        channel.on('exit', (code: number | null, signal?: string) => (exit = { code, signal }));
        channel.stderr.once('close', closed);
        channel.once('close', closed);
        if (command.stdin === undefined) channel.end();
        else channel.end(command.stdin);
      };
      try {
        this.client.exec(line, onChannel);
      } catch (error) {
        // ssh2 throws "Not connected" when the socket is no longer writable.
        this.lastError ??= error instanceof Error ? error : undefined;
        lost();
      }
    });
  }

  /** The socket is closed or closing: nothing more will come from the server. */
  private get gone(): boolean {
    return this.isClosed || this.socket.destroyed;
  }

  /** Polite close (SSH disconnect, FIN); destroyed if the server does not answer in time. */
  async close(): Promise<void> {
    if (!this.gone) {
      this.client.end();
      const timer = setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS);
      await this.closed;
      clearTimeout(timer);
    }
    await this.closed;
  }

  /** For failures after `open()` resolved, e.g. a session whose work threw. */
  async destroy(): Promise<void> {
    this.socket.destroy();
    await this.closed;
  }

  private error(
    kind: NodeShellErrorKind,
    message: string,
    details: NodeShellErrorDetails = {},
    cause: unknown = this.lastError,
  ): NodeShellError {
    return targetError(this.target, kind, message, details, cause);
  }
}

function toResult(
  exit: { code: number | null; signal?: string },
  stdout: CappedOutput,
  stderr: CappedOutput,
): ShellResult {
  const signalNumber: number | undefined =
    exit.signal === undefined
      ? undefined
      : (constants.signals as Record<string, number | undefined>)[exit.signal];
  const exitCode = exit.code ?? 128 + (signalNumber ?? 127);
  return {
    exitCode,
    stdout: stdout.text(),
    stderr: stderr.text(),
    truncated: stdout.truncated || stderr.truncated,
    ...(exit.signal === undefined ? {} : { signal: exit.signal }),
  };
}
