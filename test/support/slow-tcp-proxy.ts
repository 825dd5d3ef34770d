import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy to a real server that delays every chunk, both ways, by a fixed
 * time: a slow network to a real Redis or PostgreSQL, so that a test can
 * catch what a client does while its commands are still on the way.
 */
export class SlowTcpProxy {
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  private constructor(
    private readonly target: { host: string; port: number },
    private readonly delayMs: number,
  ) {
    this.server = createServer((client) => this.relay(client));
  }

  static async start(
    target: { host: string; port: number },
    delayMs: number,
  ): Promise<SlowTcpProxy> {
    const proxy = new SlowTcpProxy(target, delayMs);
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address !== null ? address.port : 0;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const upstream = connect(this.target.port, this.target.host);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('data', (chunk: Buffer) => {
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
        }, this.delayMs);
      });
      // A close follows the data sent before it.
      from.on('close', () => {
        this.sockets.delete(from);
        setTimeout(() => to.destroy(), this.delayMs);
      });
      from.on('error', () => undefined);
    }
  }
}
