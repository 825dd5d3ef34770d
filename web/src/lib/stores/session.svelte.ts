import createClient from 'openapi-fetch';
import { call, type Problem } from '../api/problem';
import type { components, paths } from '../api/schema';
import { router } from './router.svelte';

type User = components['schemas']['UserDto'];
type TokenPair = components['schemas']['TokenPairDto'];

/**
 * The refresh token survives a reload in sessionStorage (this tab only, gone when it closes);
 * the access token lives in memory only. Logging in again after every reload would push people
 * to keep one tab open forever; the strict CSP is what keeps scripts from reading the storage.
 */
const REFRESH_KEY = 'proximity.refresh';
/** Refresh this long before the access token expires, so no request races its expiry. */
const EARLY_MS = 30_000;

// Auth calls go through a client without the token middleware, which itself depends on them.
const auth = createClient<paths>({ baseUrl: '' });

class Session {
  user = $state<User | null>(null);
  /** Why the person was sent to the login page, shown there. */
  notice = $state<string | null>(null);
  #access: string | null = null;
  #expiresAt = 0;
  #refreshing: Promise<boolean> | null = null;

  async login(username: string, password: string): Promise<Problem | null> {
    const r = await call(auth.POST('/api/auth/login', { body: { username, password } }));
    if (!r.ok) return r.problem;
    this.#accept(r.data);
    this.notice = null;
    return null;
  }

  /** On start: a refresh token left by this tab's previous page brings the session back. */
  async restore(): Promise<void> {
    if (sessionStorage.getItem(REFRESH_KEY)) await this.#refresh();
  }

  /** A valid access token, refreshed first when it is about to expire; null when logged out. */
  async accessToken(): Promise<string | null> {
    if (this.#access && Date.now() < this.#expiresAt - EARLY_MS) return this.#access;
    if (!sessionStorage.getItem(REFRESH_KEY)) return null;
    return (await this.#refresh()) ? this.#access : null;
  }

  async logout(): Promise<void> {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    const access = this.#access;
    this.#clear();
    if (refreshToken && access) {
      await call(
        auth.POST('/api/auth/logout', {
          body: { refreshToken },
          headers: { authorization: `Bearer ${access}` },
        }),
      );
    }
    router.navigate('/login');
  }

  /** The API refused our token: back to the login page, saying why. */
  expire(): void {
    this.#clear();
    this.notice = 'Your session has ended. Please log in again.';
    const here = router.path;
    if (here !== '/login') router.navigate(`/login?next=${encodeURIComponent(here)}`);
  }

  // One refresh at a time: a rotated refresh token used twice revokes the whole session.
  #refresh(): Promise<boolean> {
    this.#refreshing ??= this.#doRefresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async #doRefresh(): Promise<boolean> {
    const refreshToken = sessionStorage.getItem(REFRESH_KEY);
    if (!refreshToken) return false;
    const r = await call(auth.POST('/api/auth/refresh', { body: { refreshToken } }));
    if (r.ok) {
      this.#accept(r.data);
      return true;
    }
    if (r.problem.status === 401) this.#clear();
    return false;
  }

  #accept(pair: TokenPair): void {
    this.#access = pair.accessToken;
    this.#expiresAt = Date.now() + pair.expiresIn * 1000;
    sessionStorage.setItem(REFRESH_KEY, pair.refreshToken);
    this.user = pair.user;
  }

  #clear(): void {
    this.#access = null;
    this.#expiresAt = 0;
    sessionStorage.removeItem(REFRESH_KEY);
    this.user = null;
  }
}

export const session = new Session();
