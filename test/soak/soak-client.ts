/** An answer of the API as a user sees it; status 0 when the request itself failed. */
export interface Reply<T = unknown> {
  status: number;
  body: T;
}

export interface AppView {
  id: string;
  status: string;
  hostname: string;
}

/** Statuses an application passes through while an operation runs on it. */
export const TRANSITIONAL = new Set([
  'deploying',
  'starting',
  'stopping',
  'restarting',
  'cloning',
  'restoring',
  'removing',
  'adopting',
]);

/** A minimal HTTP client of the API for one session, counting every answer by status. */
export class SoakClient {
  constructor(
    private readonly base: string,
    private readonly token: string | null,
    private readonly statuses: Map<number, number>,
  ) {}

  withToken(token: string): SoakClient {
    return new SoakClient(this.base, token, this.statuses);
  }

  async send<T = unknown>(method: string, path: string, body?: unknown): Promise<Reply<T>> {
    let reply: Reply<T>;
    try {
      const res = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          'content-type': 'application/json',
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      reply = { status: res.status, body: (text ? JSON.parse(text) : null) as T };
    } catch {
      reply = { status: 0, body: null as T };
    }
    if (method !== 'GET')
      this.statuses.set(reply.status, (this.statuses.get(reply.status) ?? 0) + 1);
    return reply;
  }

  /** Every application this session sees (its own; an admin's: all). */
  async apps(): Promise<AppView[] | null> {
    const all: AppView[] = [];
    for (let page = 1; ; page += 1) {
      const res = await this.send<{ items: AppView[]; total: number }>(
        'GET',
        `/api/apps?perPage=100&page=${page}`,
      );
      if (res.status !== 200) return null;
      all.push(...res.body.items);
      if (all.length >= res.body.total || res.body.items.length === 0) return all;
    }
  }
}
