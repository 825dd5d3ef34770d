import { Socket } from 'node:net';
import type { RunningSimulator } from '../../../../test/pve-simulator';
import { ShellTarget } from '../node-shell';
import { NodeShellError } from '../shell-errors';
import { Ssh2NodeShell } from '../ssh2-node-shell';

/** The real adapter, remembering every socket it opened so tests can prove none is left open. */
export class TrackingShell extends Ssh2NodeShell {
  private readonly sockets: Array<{ socket: Socket; closed: boolean }> = [];

  protected override createSocket(): Socket {
    const entry = { socket: super.createSocket(), closed: false };
    entry.socket.once('close', () => (entry.closed = true));
    this.sockets.push(entry);
    return entry.socket;
  }

  get opened(): number {
    return this.sockets.length;
  }

  /** Sockets not yet closed (checked right after a call settled: the adapter waits for 'close'). */
  get open(): number {
    return this.sockets.filter((entry) => !entry.closed || !entry.socket.destroyed).length;
  }
}

/** The simulator's sshd as a ShellTarget with password auth and the pinned host key. */
export function simTarget(sim: RunningSimulator): ShellTarget {
  return {
    host: '127.0.0.1',
    port: sim.sshPort,
    username: sim.sshUser,
    auth: { password: sim.sshPassword },
    hostKey: { fingerprint: sim.sshHostKeyFingerprint },
  };
}

/** The NodeShellError a call rejects with (fails the test when it resolves or throws something else). */
export async function shellError(call: Promise<unknown>): Promise<NodeShellError> {
  try {
    await call;
  } catch (error) {
    if (error instanceof NodeShellError) return error;
    throw new Error(`expected a NodeShellError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected the call to fail');
}

/** Everything of an error that could reach a log or a response, for "contains no secret" checks. */
export function visibleText(error: NodeShellError): string {
  return JSON.stringify({
    message: error.message,
    details: error.details,
    stack: error.stack,
    kind: error.kind,
  });
}

/** TCP handles alive in this process (client and simulator sides). */
export function tcpHandles(): number {
  return process
    .getActiveResourcesInfo()
    .filter((name) => name === 'TCPSocketWrap' || name === 'TCPWRAP').length;
}

/** Polls a condition with a deadline (the simulator's side of a socket closes a moment after ours). */
export async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return true;
}
