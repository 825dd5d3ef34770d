import { createServer as createHttpServer, Server as HttpServer } from 'node:http';
import { connect, createServer as createTcpServer, Server as TcpServer, Socket } from 'node:net';

/** An HTTP responder for one published port of a compose service, on the container's address. */
export interface ResponderSpec {
  address: string;
  port: number;
  serviceName: string;
  onRequest(line: string): void;
}

/** A forwarding rule made real: <node address>:<publicPort> piped to the target. */
export interface ForwardSpec {
  /** The address of the node whose ruleset holds the rule. */
  listenAddress: string;
  publicPort: number;
  targetAddress: string;
  targetPort: number;
}

interface OpenResponder {
  server: HttpServer;
  spec: ResponderSpec;
}

interface OpenForwarder {
  server: TcpServer;
  target: string;
  sockets: Set<Socket>;
}

function listen(server: HttpServer | TcpServer, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

function closeServer(server: HttpServer | TcpServer): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    if (server instanceof HttpServer) server.closeAllConnections();
  });
}

/**
 * The sockets that make simulated services really answer: responders on
 * 127.77.x.y and forwarders on the address of the node holding the rule. `apply` reconciles them
 * with the desired set; calls are serialised so binds never race.
 */
export class Reachability {
  private readonly responders = new Map<string, OpenResponder>();
  private readonly forwarders = new Map<string, OpenForwarder>();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private readonly reportedForwardFailures = new Set<string>();

  /** Returns the responders that could not bind, keyed `address:port`, with the reason. */
  apply(responders: ResponderSpec[], forwards: ForwardSpec[]): Promise<Map<string, string>> {
    const run = this.queue.then(() => this.reconcile(responders, forwards));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await Promise.all([...this.responders.values()].map((r) => closeServer(r.server)));
    await Promise.all([...this.forwarders.values()].map((f) => this.closeForwarder(f)));
    this.responders.clear();
    this.forwarders.clear();
  }

  private async reconcile(
    responders: ResponderSpec[],
    forwards: ForwardSpec[],
  ): Promise<Map<string, string>> {
    const failures = new Map<string, string>();
    if (this.closed) return failures;
    const wanted = new Map<string, ResponderSpec>();
    for (const spec of responders) wanted.set(`${spec.address}:${spec.port}`, spec);
    for (const [key, open] of [...this.responders]) {
      if (!wanted.has(key)) {
        this.responders.delete(key);
        await closeServer(open.server);
      }
    }
    for (const [key, spec] of wanted) {
      const open = this.responders.get(key);
      if (open) {
        open.spec = spec;
        continue;
      }
      const entry: OpenResponder = { server: createHttpServer(), spec };
      entry.server.on('request', (req, res) => {
        const body = Buffer.from(entry.spec.serviceName);
        res.writeHead(200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': body.length,
        });
        res.end(body);
        entry.spec.onRequest(
          `${req.socket.remoteAddress ?? '-'} - - "${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/${req.httpVersion}" 200 ${body.length}`,
        );
      });
      try {
        await listen(entry.server, spec.port, spec.address);
        this.responders.set(key, entry);
      } catch (error) {
        failures.set(key, error instanceof Error ? error.message : String(error));
      }
    }

    const wantedForwards = new Map<string, ForwardSpec>();
    for (const forward of forwards) {
      const target = `${forward.targetAddress}:${forward.targetPort}`;
      if (!this.responders.has(target)) continue;
      const key = `${forward.listenAddress}:${forward.publicPort}`;
      if (!wantedForwards.has(key)) wantedForwards.set(key, forward);
    }
    for (const [key, open] of [...this.forwarders]) {
      const forward = wantedForwards.get(key);
      if (!forward || `${forward.targetAddress}:${forward.targetPort}` !== open.target) {
        this.forwarders.delete(key);
        await this.closeForwarder(open);
      }
    }
    for (const [key, forward] of wantedForwards) {
      if (this.forwarders.has(key)) continue;
      const open: OpenForwarder = {
        server: createTcpServer(),
        target: `${forward.targetAddress}:${forward.targetPort}`,
        sockets: new Set(),
      };
      open.server.on('connection', (client: Socket) => {
        const upstream = connect({ host: forward.targetAddress, port: forward.targetPort });
        open.sockets.add(client);
        open.sockets.add(upstream);
        const teardown = (): void => {
          client.destroy();
          upstream.destroy();
          open.sockets.delete(client);
          open.sockets.delete(upstream);
        };
        client.on('error', teardown).on('close', teardown);
        upstream.on('error', teardown).on('close', teardown);
        client.pipe(upstream).pipe(client);
      });
      try {
        await listen(open.server, forward.publicPort, forward.listenAddress);
        this.forwarders.set(key, open);
        this.reportedForwardFailures.delete(key);
      } catch (error) {
        if (!this.reportedForwardFailures.has(key)) {
          this.reportedForwardFailures.add(key);
          process.stderr.write(
            `pve-simulator: cannot forward ${key}: ${error instanceof Error ? error.message : String(error)}\n`,
          );
        }
      }
    }
    return failures;
  }

  private async closeForwarder(open: OpenForwarder): Promise<void> {
    for (const socket of open.sockets) socket.destroy();
    open.sockets.clear();
    await closeServer(open.server);
  }
}
