import { IncomingMessage, ServerResponse, STATUS_CODES } from 'node:http';
import { createServer, Server } from 'node:https';
import { AddressInfo, Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { PveError } from '../pve/pve-error';
import { Simulation } from '../simulation';
import { ApiRequest, Params, paramText, WithTotal } from './api-request';
import { AuthFailure, Authenticator } from './authenticator';
import { PreSerialized } from './routes/cluster-routes';
import { Router } from './router';
import { RawParam, validateParameters } from './schema/parameter-schema';

export const JSON_CONTENT_TYPE = 'application/json;charset=UTF-8';
const MAX_BODY = 64 * 1024;

/** Handles `/_sim/…`; answers false when the path is not one of its routes. */
export interface ControlHandler {
  handle(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): Promise<void>;
}

/** Perl's uri_unescape on raw (latin1) bytes: `%XX` decoded, a `+` stays a `+`; the result read as UTF-8. */
function uriUnescape(text: string): string {
  if (!text.includes('%') && Buffer.byteLength(text) === text.length) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3);
    if (text[i] === '%' && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(text.charCodeAt(i) & 0xff);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** pve-http-server's decode_urlencoded: `&` or `;` separated; repeated keys become arrays. */
function decodeUrlencoded(data: string, into: Record<string, RawParam>): void {
  if (!data) return;
  for (const pair of data.split(/[&;]/)) {
    const [rawKey, rawValue] = pair.split('=');
    const key = uriUnescape(rawKey.replace(/\+/g, ' '));
    const value =
      rawValue === undefined || rawValue === ''
        ? undefined
        : uriUnescape(rawValue.replace(/\+/g, ' '));
    if (value === undefined) {
      delete into[key];
      continue;
    }
    const old = into[key];
    if (old === undefined || old === null) into[key] = value;
    else into[key] = Array.isArray(old) ? [...old, value] : [old, value];
  }
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        resolve(null);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The reason phrase: first line only, and only characters an HTTP status line may carry. */
function reasonPhrase(message: string): string {
  const first = message.split(/\r?\n/)[0];
  return first.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}

export interface PveHttpServerOptions {
  key: string;
  cert: string;
  /** pveproxy delays every 401 (by 3 s); configurable here. */
  unauthorizedDelayMs: number;
}

/**
 * pveproxy as a client sees it: TLS, `/api2/json`, Proxmox's status lines,
 * envelopes and headers, auth before anything else, parameter validation.
 */
export class PveHttpServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly unauthorizedDelayMs: number;

  constructor(
    options: PveHttpServerOptions,
    private readonly sim: Simulation,
    private readonly router: Router,
    private readonly auth: Authenticator,
    private readonly control: ControlHandler,
  ) {
    this.unauthorizedDelayMs = options.unauthorizedDelayMs;
    this.server = createServer(
      { key: options.key, cert: options.cert, keepAlive: true },
      (req, res) => {
        this.process(req, res).catch((error: unknown) => {
          process.stderr.write(
            `pve-simulator: request failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
          );
          if (!res.headersSent)
            this.sendJsonError(
              res,
              500,
              error instanceof Error ? error.message : String(error),
              null,
              req,
            );
          else res.destroy();
        });
      },
    );
    this.server.keepAliveTimeout = 5000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server.on('tlsClientError', () => undefined);
  }

  listen(port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const socket of this.sockets) socket.destroy();
    });
  }

  private baseHeaders(close: boolean): Record<string, string> {
    const date = new Date().toUTCString();
    return {
      'Cache-Control': 'max-age=0',
      Pragma: 'no-cache',
      Expires: date,
      Server: 'pve-api-daemon/3.0',
      ...(close ? { Connection: 'close' } : {}),
    };
  }

  private sendBody(
    res: ServerResponse,
    status: number,
    reason: string,
    body: Buffer,
    req: IncomingMessage,
    compressed?: () => Buffer,
  ): void {
    const acceptsGzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const headers: Record<string, string | number> = {
      ...this.baseHeaders(status >= 400),
      'Content-Type': JSON_CONTENT_TYPE,
    };
    let payload = body;
    if (acceptsGzip && body.length > 1024) {
      payload = compressed ? compressed() : gzipSync(body);
      headers['Content-Encoding'] = 'gzip';
    }
    headers['Content-Length'] = payload.length;
    res.writeHead(status, reasonPhrase(reason), headers);
    res.end(payload);
  }

  private sendJsonError(
    res: ServerResponse,
    status: number,
    message: string,
    errors: Record<string, string> | null,
    req: IncomingMessage,
  ): void {
    const body: Record<string, unknown> = {
      data: null,
      message: message.endsWith('\n') ? message : `${message}\n`,
    };
    if (errors) body.errors = errors;
    this.sendBody(res, status, message, Buffer.from(JSON.stringify(body)), req);
  }

  /** An error raised before the API handler (no formatter): the text is the body, with no content type. */
  private sendPlainError(res: ServerResponse, status: number, message: string): void {
    const body = Buffer.from(message);
    res.writeHead(status, reasonPhrase(message), {
      ...this.baseHeaders(true),
      'Content-Length': body.length,
    });
    res.end(body);
  }

  private async sendUnauthorized(res: ServerResponse, reason: string): Promise<void> {
    if (this.unauthorizedDelayMs > 0) await this.sim.scheduler.delay(this.unauthorizedDelayMs);
    res.writeHead(401, reasonPhrase(reason), { ...this.baseHeaders(true), 'Content-Length': 0 });
    res.end();
  }

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const path = uriUnescape(queryAt < 0 ? url : url.slice(0, queryAt));
    const query = queryAt < 0 ? '' : url.slice(queryAt + 1);

    if (path === '/_sim' || path.startsWith('/_sim/')) {
      const body = await readBody(req);
      await this.control.handle(req, res, path, body ?? Buffer.alloc(0));
      return;
    }

    this.sim.calls++;
    const fault = this.sim.faults.matchHttp(method, path);
    if (fault && fault.delayMs > 0) await this.sim.scheduler.delay(fault.delayMs);
    if (fault?.dropConnection) {
      req.socket.destroy();
      return;
    }
    if (fault && fault.status !== null) {
      const message = fault.message ?? STATUS_CODES[fault.status] ?? 'Simulated failure';
      if (fault.status === 401) await this.sendUnauthorized(res, message);
      else if (fault.status >= 595) this.sendPlainError(res, fault.status, message);
      else this.sendJsonError(res, fault.status, message, null, req);
      return;
    }
    if (this.sim.latency.httpMs > 0) await this.sim.scheduler.delay(this.sim.latency.httpMs);

    const api = /^\/api2\/+([a-z][a-z0-9]+)(\/.*)?$/.exec(path);
    if (!api) {
      this.sendPlainError(res, 501, 'no such uri');
      return;
    }
    const format = api[1];
    const relPath = api[2] ?? '/';

    let authenticated: ReturnType<Authenticator['authenticate']>;
    try {
      authenticated = this.auth.authenticate(method, relPath, req.headers);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      await this.sendUnauthorized(res, error.message);
      return;
    }

    const contentLength = Number(req.headers['content-length'] ?? 0);
    if (contentLength > 0 && method !== 'POST' && method !== 'PUT') {
      this.sendPlainError(res, 501, `Unexpected content for method '${method}'`);
      return;
    }
    const body = await readBody(req);
    if (body === null) {
      this.sendPlainError(res, 413, 'Request Entity Too Large');
      return;
    }
    if (format !== 'json') {
      this.sendPlainError(res, 501, `no formatter for uri ${relPath}, ${format}`);
      return;
    }

    try {
      const params: Record<string, RawParam> = {};
      if ((method === 'POST' || method === 'PUT') && body.length > 0) {
        const contentType = String(req.headers['content-type'] ?? '')
          .split(';')[0]
          .trim()
          .toLowerCase();
        if (contentType === 'application/json') {
          let decoded: unknown;
          try {
            decoded = JSON.parse(body.toString('utf8'));
          } catch {
            throw PveError.die('malformed JSON string');
          }
          if (decoded !== null && typeof decoded === 'object' && !Array.isArray(decoded))
            Object.assign(params, decoded);
        } else {
          decodeUrlencoded(body.toString('latin1'), params);
        }
      }
      decodeUrlencoded(query, params);
      delete params._dc;
      const result = fault?.data
        ? fault.data.value
        : await this.dispatch(method, relPath, params, authenticated, fault?.failTask ?? null);
      const padding = Buffer.alloc(fault?.padBytes ?? 0, 0x20);
      if (result instanceof PreSerialized) {
        if (padding.length === 0) {
          this.sendBody(res, 200, 'OK', result.body, req, () => result.gzip());
          return;
        }
        this.sendBody(res, 200, 'OK', Buffer.concat([result.body, padding]), req);
        return;
      }
      const envelope: Record<string, unknown> = {
        data: result instanceof WithTotal ? result.data : result,
      };
      if (result instanceof WithTotal && result.total) envelope.total = result.total;
      const answer = Buffer.from(JSON.stringify(envelope) ?? 'null');
      this.sendBody(res, 200, 'OK', Buffer.concat([answer, padding]), req);
    } catch (error) {
      if (!(error instanceof PveError)) throw error;
      if (error.status === 401) {
        if (this.unauthorizedDelayMs > 0) await this.sim.scheduler.delay(this.unauthorizedDelayMs);
      }
      this.sendJsonError(res, error.status, error.message, error.errors, req);
    }
  }

  private async dispatch(
    method: string,
    relPath: string,
    params: Record<string, RawParam>,
    authenticated: ReturnType<Authenticator['authenticate']>,
    failTask: string | null,
  ): Promise<unknown> {
    const matched = this.router.match(method, relPath);
    if (!matched) throw new PveError(501, `Method '${method} ${relPath}' not implemented`);
    const { route, uriParams } = matched;
    for (const key of Object.keys(params).sort()) {
      if (
        uriParams[key] !== undefined &&
        params[key] !== null &&
        paramText(params[key]) !== uriParams[key]
      ) {
        throw PveError.param({
          [key]: 'duplicate parameter (already defined in URI) with conflicting values!',
        });
      }
    }
    Object.assign(params, uriParams);
    if (authenticated.apiToken && !route.schema.allowtoken) {
      throw PveError.permission(
        `URI '${relPath}' not available with API token, need proper ticket.\n`,
      );
    }
    const node = uriParams.node;
    if (node !== undefined && !this.sim.cluster.node(node)) {
      throw PveError.die(
        `hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`,
      );
    }
    const errors = validateParameters(params, route.schema);
    if (Object.keys(errors).length > 0) throw PveError.param(errors);
    const request: ApiRequest = {
      method,
      path: relPath,
      params: new Params(params),
      principal: authenticated.principal ?? { userid: '', isToken: false },
      failTask,
    };
    const result: unknown = await route.handler(request);
    return result;
  }
}
