import { isIPv6 } from 'node:net';
import type { ApiRequestable } from 'proxmox-api';
import { type Dispatcher, fetch } from 'undici';
import type { ProxmoxConnection } from './proxmox-connection';
import { classifyHttpError, ProxmoxError, ProxmoxErrorKind } from './proxmox-error';
import { TlsPinMismatch } from './tls-dispatcher';

type Params = Record<string, unknown> | undefined;

const TLS_ERROR = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/i;
const READ_RETRY_DELAY_MS = 200;

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
    _template: string,
    params?: Params,
  ): Promise<unknown> {
    const verb = method.toUpperCase();
    const attempts = verb === 'GET' ? 2 : 1;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.send(verb, path, params, false);
      } catch (err) {
        const retry = attempt < attempts && err instanceof ProxmoxError && err.transient;
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
        signal: AbortSignal.timeout(this.connection.timeoutMs),
      });
      return { status: res.status, statusText: res.statusText, text: await res.text() };
    } catch (err) {
      throw transportError(err);
    }
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
