import { isIPv6 } from 'node:net';
import type { ReadableStream } from 'node:stream/web';
import type { ApiRequestable } from 'proxmox-api';
import { type Dispatcher, fetch, type Response } from 'undici';
import type { ProxmoxConnection } from './proxmox-connection';
import { classifyHttpError, ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
import { TlsPinMismatch } from './tls-dispatcher';

type Params = Record<string, unknown> | undefined;

const TLS_ERROR = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i;
const READ_RETRY_DELAY_MS = 200;
/** Past this an answer is refused: no Proxmox answer Proximity reads comes near it. */
export const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = err; current && chain.length < 6;) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

/** Turns a transport failure (no HTTP answer) into a typed error. */
function transportError(err: unknown): ProxmoxError {
  const chain = causes(err);
  const text = chain
    .map(
      (e) =>
        `${(e as { code?: string }).code ?? ''} ${(e as Error).name ?? ''} ${(e as Error).message ?? ''}`,
    )
    .join(' | ');
  let kind = ProxmoxErrorKind.Unreachable;
  if (chain.some((e) => e instanceof TlsPinMismatch) || TLS_ERROR.test(text)) {
    kind = ProxmoxErrorKind.TlsRejected;
  } else if (/TimeoutError|AbortError|UND_ERR_CONNECT_TIMEOUT|timed out/i.test(text)) {
    kind = ProxmoxErrorKind.Timeout;
  }
  return new ProxmoxError(kind, text, null, { cause: err });
}

/**
 * The path with every caller-supplied segment (a `*` of the template, from
 * `$(id)`) percent-encoded. proxmox-api escapes only `/`, so a node name from
 * a cluster could otherwise add a query, a fragment or a `..` to the URL.
 */
function encodedPath(path: string, template: string): string {
  const segments = path.split('/');
  const shape = template.split('/');
  if (segments.length !== shape.length) {
    throw new ProxmoxError(
      ProxmoxErrorKind.InvalidRequest,
      `path ${path} does not fit ${template}`,
    );
  }
  return segments
    .map((segment, i) => {
      if (shape[i] !== '*') return segment;
      // Undo the library's escape of '/' (no Proxmox id contains a literal '%2F').
      const value = segment.replace(/%2F/g, '/');
      if (value === '' || value === '.' || value === '..') {
        throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `refused path segment '${value}'`);
      }
      return encodeURIComponent(value);
    })
    .join('/');
}

/** The body as text, aborting the read once it grows past the cap (counted after decompression). */
async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  // undici types the body as ReadableStream<any>; a fetch body is a byte stream.
  const body = res.body as ReadableStream<Uint8Array>;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_ANSWER_BYTES) {
      // Cancelling the stream closes the connection: the rest is never read.
      await reader.cancel();
      throw new ProxmoxError(
        ProxmoxErrorKind.AnswerTooLarge,
        `answer of more than ${MAX_ANSWER_BYTES} bytes (status ${res.status})`,
        res.status,
      );
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function encode(params: Params): URLSearchParams {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    for (const v of values) search.append(key, v === true ? '1' : v === false ? '0' : String(v));
  }
  return search;
}

/**
 * The HTTP engine behind the proxmox-api typed client. Ours rather than the
 * library's so that every call has a timeout, errors are typed, a write is
 * never sent twice (only reads are retried), and an expired ticket is renewed
 * whatever wording the server uses.
 */
export class ProxmoxHttpEngine implements ApiRequestable {
  private ticket: { cookie: string; csrf: string } | null = null;
  private readonly base: string;

  constructor(
    private readonly connection: ProxmoxConnection,
    private readonly dispatcher: Dispatcher,
  ) {
    const host = isIPv6(connection.host) ? `[${connection.host}]` : connection.host;
    this.base = `https://${host}:${connection.port}`;
  }

  async doRequest(
    method: string,
    path: string,
    template: string,
    params?: Params,
  ): Promise<unknown> {
    const verb = method.toUpperCase();
    const safePath = encodedPath(path, template);
    const attempts = verb === 'GET' ? 2 : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.send(verb, safePath, params, false);
      } catch (err) {
        const retry =
          attempt < attempts &&
          err instanceof ProxmoxError &&
          err.transient &&
          !this.connection.signal?.aborted;
        if (!retry) throw err;
        await new Promise((resolve) => setTimeout(resolve, READ_RETRY_DELAY_MS * attempt));
      }
    }
  }

  private async send(
    verb: string,
    path: string,
    params: Params,
    renewed: boolean,
  ): Promise<unknown> {
    const headers: Record<string, string> = await this.authHeaders(verb);
    const url = new URL(`${this.base}${path}`);
    let body: string | undefined;
    const encoded = encode(params);
    if (verb === 'POST' || verb === 'PUT') {
      body = encoded.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else {
      encoded.forEach((value, key) => url.searchParams.append(key, value));
    }
    const { status, statusText, text } = await this.exchange(url, verb, headers, body);
    if (status === 200) return (JSON.parse(text) as { data: unknown }).data;
    if (status === 401 && this.ticket && !renewed) {
      this.ticket = null;
      return this.send(verb, path, params, true);
    }
    throw new ProxmoxError(
      classifyHttpError(status, statusText),
      `${verb} ${path}: ${status} ${statusText} ${text.slice(0, 500)}`,
      status,
    );
  }

  private async exchange(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; statusText: string; text: string }> {
    try {
      const res = await fetch(url, {
        method,
        headers,
        body,
        dispatcher: this.dispatcher,
        signal: this.signal(),
      });
      return { status: res.status, statusText: res.statusText, text: await readCapped(res) };
    } catch (err) {
      if (err instanceof ProxmoxError) throw err;
      throw transportError(err);
    }
  }

  private signal(): AbortSignal {
    const timeout = AbortSignal.timeout(this.connection.timeoutMs);
    const { signal } = this.connection;
    return signal ? AbortSignal.any([timeout, signal]) : timeout;
  }

  private async authHeaders(verb: string): Promise<Record<string, string>> {
    const { auth } = this.connection;
    if ('tokenId' in auth) {
      return { authorization: `PVEAPIToken=${auth.tokenId}=${auth.tokenSecret}` };
    }
    this.ticket ??= await this.login(auth.username, auth.password);
    const headers: Record<string, string> = { cookie: `PVEAuthCookie=${this.ticket.cookie}` };
    if (verb !== 'GET') headers.csrfpreventiontoken = this.ticket.csrf;
    return headers;
  }

  private async login(
    username: string,
    password: string,
  ): Promise<{ cookie: string; csrf: string }> {
    const url = new URL(`${this.base}/api2/json/access/ticket`);
    const body = new URLSearchParams({ username, password }).toString();
    const { status, statusText, text } = await this.exchange(
      url,
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    );
    if (status !== 200) {
      throw new ProxmoxError(
        status === 401 ? ProxmoxErrorKind.AuthFailed : classifyHttpError(status, statusText),
        `login: ${status} ${statusText}`,
        status,
      );
    }
    const data = (JSON.parse(text) as { data: { ticket: string; CSRFPreventionToken: string } })
      .data;
    return { cookie: data.ticket, csrf: data.CSRFPreventionToken };
  }
}
