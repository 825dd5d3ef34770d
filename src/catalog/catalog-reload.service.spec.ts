import type Redis from 'ioredis';
import type { PinoLogger } from 'nestjs-pino';
import type { AuditService } from '../audit/audit.service';
import type { Actor } from '../common/auth/actor';
import { DomainError, ErrorCode } from '../common/errors/domain-error';
import type { AppConfig } from '../config/app-config';
import type { CatalogApp } from './catalog-app';
import { CatalogReloadService, RELOAD_WINDOW_KEY } from './catalog-reload.service';
import type { CatalogLoader, CatalogLoadResult } from './catalog.loader';
import { CatalogStore } from './catalog.store';

/** The few Redis commands the reload path uses, with the window key kept in memory. */
class FakeRedis {
  window: string | null = null;
  down = false;
  publishFails = false;
  readonly published: [string, string][] = [];

  set(key: string, value: string): Promise<string | null> {
    if (this.down) return Promise.reject(new Error('Connection is closed.'));
    expect(key).toBe(RELOAD_WINDOW_KEY);
    if (this.window !== null) return Promise.resolve(null);
    this.window = value;
    return Promise.resolve('OK');
  }

  pttl(): Promise<number> {
    return Promise.resolve(this.window === null ? -2 : 7_300);
  }

  publish(channel: string, message: string): Promise<number> {
    if (this.publishFails) return Promise.reject(new Error('Connection is closed.'));
    this.published.push([channel, message]);
    return Promise.resolve(1);
  }

  del(): Promise<number> {
    this.window = null;
    return Promise.resolve(1);
  }
}

/** A loader whose loads finish only when the test says so. */
class ControlledLoader {
  readonly pending: ((result: CatalogLoadResult) => void)[] = [];

  load(): Promise<CatalogLoadResult> {
    return new Promise((resolve) => this.pending.push(resolve));
  }

  finish(index: number, ids: string[]): void {
    this.pending[index]({ apps: ids.map((id) => ({ id }) as CatalogApp), errors: [] });
  }
}

const actor: Actor = { principal: null, ip: '127.0.0.1' };
const flush = () => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const redis = new FakeRedis();
  const loader = new ControlledLoader();
  const store = new CatalogStore();
  const audit = { record: jest.fn(() => Promise.resolve()) };
  const config = { redis: { prefix: 'px' } } as AppConfig;
  const service = new CatalogReloadService(
    redis as unknown as Redis,
    config,
    loader as unknown as CatalogLoader,
    store,
    audit as unknown as AuditService,
    {
      setContext: jest.fn(),
      info: jest.fn(),
      warn: jest.fn(),
      error: jest.fn(),
    } as unknown as PinoLogger,
  );
  return { redis, loader, store, audit, service };
}

async function errorOf(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}

describe('CatalogReloadService', () => {
  it('coalesces concurrent reloads into one load whose result every caller gets', async () => {
    const { redis, loader, store, audit, service } = setup();
    const calls = Array.from({ length: 10 }, () => service.reload(actor));
    await flush();
    expect(loader.pending).toHaveLength(1);
    loader.finish(0, ['a', 'b']);
    const results = await Promise.all(calls);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toEqual({ loaded: 2, errors: [] });
    expect(store.snapshot.apps.map((a) => a.id)).toEqual(['a', 'b']);
    expect(redis.published).toHaveLength(1);
    expect(redis.published[0][0]).toBe('px:catalog:reloaded');
    expect(audit.record).toHaveBeenCalledTimes(10);
    expect(audit.record).toHaveBeenCalledWith(
      expect.objectContaining({ action: 'catalog.reload', resourceType: 'catalog' }),
    );
  });

  it('answers 429 with Retry-After to a reload after the load, within the window', async () => {
    const { loader, service } = setup();
    const first = service.reload(actor);
    await flush();
    loader.finish(0, ['a']);
    await first;
    const error = await errorOf(service.reload(actor));
    expect(error.code).toBe(ErrorCode.RateLimited);
    expect(error.retryAfterSeconds).toBeCloseTo(7.3);
    expect(loader.pending).toHaveLength(1);
  });

  it('refuses every caller while another replica holds the window, without loading', async () => {
    const { redis, loader, service } = setup();
    redis.window = 'other-replica';
    const errors = await Promise.all([1, 2, 3].map(() => errorOf(service.reload(actor))));
    expect(errors.map((e) => e.code)).toEqual(Array(3).fill(ErrorCode.RateLimited));
    expect(loader.pending).toHaveLength(0);
  });

  it('answers 503 when Redis is unreachable, without loading', async () => {
    const { redis, loader, service } = setup();
    redis.down = true;
    expect((await errorOf(service.reload(actor))).code).toBe(ErrorCode.Unavailable);
    expect(loader.pending).toHaveLength(0);
  });

  it('answers 503 and frees the window when the other replicas cannot be signalled', async () => {
    const { redis, loader, service } = setup();
    redis.publishFails = true;
    const call = errorOf(service.reload(actor));
    await flush();
    loader.finish(0, ['a']);
    expect((await call).code).toBe(ErrorCode.Unavailable);
    expect(redis.window).toBeNull();
  });

  it('never lets an older load replace a newer one', async () => {
    const { loader, store, service } = setup();
    const older = service.reload(actor);
    await flush();
    // A signal from another replica starts a second load while the first runs.
    const newer = service['refresh']('signal');
    loader.finish(1, ['new']);
    await newer;
    loader.finish(0, ['old']);
    await older;
    expect(store.snapshot.apps.map((a) => a.id)).toEqual(['new']);
  });
});
