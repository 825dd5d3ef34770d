import { timingSafeEqual } from 'node:crypto';
import { AddressInfo, createServer, Server as TcpServer, Socket } from 'node:net';
import { Connection, ParsedKey, Server as Ssh2Server, ServerChannel, utils } from 'ssh2';
import { nodeCommandSystem, NODE_ENV } from '../node/command-systems';
import { Sink, StreamStdin } from '../shell/command-io';
import { Simulation } from '../simulation';

export interface SshCredentials {
  user: string;
  password: string;
  /** OpenSSH public key lines accepted for public-key authentication. */
  authorizedKeys: string[];
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function safeSink(write: (data: Buffer | string) => void): Sink {
  return {
    write(data) {
      try {
        write(data);
      } catch {
        /* the client went away; the command still finishes */
      }
    },
  };
}

/**
 * The node's sshd: password and public-key logins for the configured user,
 * `exec` requests run by the node's shell against the simulated state.
 */
export class SimulatedSshServer {
  private readonly ssh: Ssh2Server;
  private readonly tcp: TcpServer;
  private readonly sockets = new Set<Socket>();
  private readonly socketsByPeer = new Map<string, Socket>();
  private readonly connections = new Map<Connection, Socket | undefined>();
  private readonly authorizedKeys: ParsedKey[];

  constructor(
    hostKey: string,
    private readonly credentials: SshCredentials,
    private readonly sim: Simulation,
    /** The node this sshd runs on (the first node of the cluster). */
    private readonly nodeName: string,
  ) {
    this.authorizedKeys = credentials.authorizedKeys.map((line) => {
      const parsed = utils.parseKey(line);
      if (parsed instanceof Error) throw new Error(`invalid authorized SSH key: ${parsed.message}`);
      return Array.isArray(parsed) ? (parsed[0] as ParsedKey) : parsed;
    });
    this.ssh = new Ssh2Server(
      { hostKeys: [hostKey], ident: 'OpenSSH_9.2p1 Debian-2+deb12u3' },
      (client, info) => {
        this.onClient(client, this.socketsByPeer.get(`${info.ip}:${info.port}`));
      },
    );
    this.tcp = createServer((socket) => {
      const peer = `${socket.remoteAddress ?? ''}:${socket.remotePort ?? 0}`;
      this.sockets.add(socket);
      this.socketsByPeer.set(peer, socket);
      socket.setNoDelay(true);
      socket.on('close', () => {
        this.sockets.delete(socket);
        this.socketsByPeer.delete(peer);
      });
      socket.on('error', () => undefined);
      this.ssh.injectSocket(socket);
    });
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tcp.once('error', reject);
      this.tcp.listen(port, host, () => {
        this.tcp.off('error', reject);
        resolve((this.tcp.address() as AddressInfo).port);
      });
    });
  }

  /**
   * Resolves once every socket has emitted 'close', not merely once the
   * listener has: the listener's callback can run first, and ssh2 clears a
   * connection's keepalive interval only on its socket's 'close', so a caller
   * that checks for leftover timers right after stop() would still see it.
   */
  async close(): Promise<void> {
    // Sockets leave the set on 'close', so each one here has yet to emit it.
    const socketsClosed = [...this.sockets].map(
      (socket) => new Promise<void>((resolve) => socket.once('close', () => resolve())),
    );
    const listenerClosed = new Promise<void>((resolve) => this.tcp.close(() => resolve()));
    for (const connection of this.connections.keys()) connection.end();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([listenerClosed, ...socketsClosed]);
  }

  private onClient(client: Connection, socket: Socket | undefined): void {
    this.connections.set(client, socket);
    // A client that refuses the host key makes ssh2 emit an error; unhandled, it would end the process.
    client.on('error', () => undefined);
    client.on('close', () => this.connections.delete(client));
    client.on('authentication', (ctx) => {
      const userOk = ctx.username === this.credentials.user;
      const methods: Array<'password' | 'publickey'> = [];
      if (this.credentials.password !== '') methods.push('password');
      if (this.authorizedKeys.length > 0) methods.push('publickey');
      if (ctx.method === 'password' && methods.includes('password')) {
        const ok =
          userOk && sameBytes(Buffer.from(ctx.password), Buffer.from(this.credentials.password));
        if (ok) ctx.accept();
        else ctx.reject(methods);
        return;
      }
      if (ctx.method === 'publickey' && methods.includes('publickey')) {
        const key = this.authorizedKeys.find(
          (candidate) =>
            candidate.type === ctx.key.algo && sameBytes(candidate.getPublicSSH(), ctx.key.data),
        );
        if (!userOk || !key) {
          ctx.reject(methods);
          return;
        }
        if (ctx.signature && ctx.blob) {
          if (key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true) ctx.accept();
          else ctx.reject(methods);
          return;
        }
        ctx.accept();
        return;
      }
      ctx.reject(methods);
    });
    client.on('ready', () => {
      client.on('session', (accept) => {
        const session = accept();
        const env: Record<string, string> = {};
        session.on('env', (acceptEnv, _reject, info) => {
          env[info.key] = info.val;
          acceptEnv?.();
        });
        session.on('pty', (acceptPty) => acceptPty?.());
        session.on('window-change', (acceptChange) => acceptChange?.());
        session.on('shell', (_accept, reject) => reject?.());
        session.on('subsystem', (_accept, reject) => reject?.());
        session.on('exec', (acceptExec, _reject, info) => {
          const channel = acceptExec();
          void this.runCommand(client, channel, info.command, env);
        });
      });
    });
  }

  private async runCommand(
    client: Connection,
    channel: ServerChannel,
    command: string,
    env: Record<string, string>,
  ): Promise<void> {
    channel.on('error', () => undefined);
    const stdout = safeSink((data) => channel.write(data));
    const stderr = safeSink((data) => channel.stderr.write(data));
    const finish = (status: number): void => {
      try {
        channel.exit(status);
        channel.end();
      } catch {
        /* already closed */
      }
    };
    try {
      const fault = this.sim.faults.matchSsh(command);
      if (fault && fault.delayMs > 0) await this.sim.scheduler.delay(fault.delayMs);
      if (fault?.dropConnection) {
        const socket = this.connections.get(client);
        if (socket) socket.destroy();
        else client.end();
        return;
      }
      if (fault && fault.status !== null) {
        if (fault.message)
          stderr.write(fault.message.endsWith('\n') ? fault.message : `${fault.message}\n`);
        finish(fault.status);
        return;
      }
      if (this.sim.latency.sshMs > 0) await this.sim.scheduler.delay(this.sim.latency.sshMs);
      const system = nodeCommandSystem(this.sim, this.nodeName);
      const status = await system.runScript(
        command,
        { stdin: new StreamStdin(channel), stdout, stderr },
        { env: { ...NODE_ENV, ...env }, cwd: '/root' },
      );
      // Commands change files inside containers and nodes: that is state too.
      this.sim.changed();
      finish(status);
    } catch (error) {
      stderr.write(
        `pve-simulator: internal error: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.stderr.write(
        `pve-simulator: ssh command failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      finish(255);
    }
  }
}
