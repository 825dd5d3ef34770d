import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { randomUUID } from 'node:crypto';
import { AuditAction } from '../audit/audit-actions';
import { AuditService } from '../audit/audit.service';
import { actorId, type Actor } from '../common/auth/actor';
import { DomainError } from '../common/errors/domain-error';
import { AppConfig } from '../config/app-config';
import { REDIS } from '../redis/redis.module';
import { CatalogLoader, type CatalogLoadError } from './catalog.loader';
import { CatalogStore } from './catalog.store';

export interface CatalogReloadSummary {
  readonly loaded: number;
  readonly errors: readonly CatalogLoadError[];
}

/** Held for the window by whichever replica reloads; `SET NX` makes the limit cluster-wide. */
export const RELOAD_WINDOW_KEY = 'catalog:reload-window';
export const RELOAD_WINDOW_MS = 10_000;

/** Channel names are not covered by ioredis' keyPrefix: the prefix is added here. */
export function reloadChannel(prefix: string): string {
  return `${prefix}:catalog:reloaded`;
}

/** The subscriber connection's client name (CLIENT SETNAME). */
export function catalogSubscriberName(prefix: string): string {
  return `${prefix}:catalog-signals`;
}

interface ReloadSignal {
  origin: string;
}

/**
 * Loads the catalog at start and on `POST /api/catalog/reload`, and keeps
 * every replica on the same catalog.
 *
 * - Concurrent reloads in one process share one in-flight load: every caller
 *   that joins it gets its result (and none of them a 429).
 * - At most one reload per 10 s across all replicas (a Redis key set with NX).
 * - After loading, the replica publishes a signal; every other process
 *   (API or worker, each with its own subscriber connection) reloads from
 *   its catalog directory. A process ignores its own signal. When a
 *   subscriber reconnects after a Redis outage it reloads too, since it may
 *   have missed a signal meanwhile.
 * - Overlapping loads (a signal arriving during a reload) are harmless: each
 *   load has a sequence number and an older one never replaces a newer one.
 *
 * Every replica must see the same catalog directory (the image's `catalog/`
 * or one shared volume); the signal says "reload", not "here is the catalog".
 */
@Injectable()
export class CatalogReloadService implements OnModuleInit, OnApplicationShutdown {
  private readonly instanceId = randomUUID();
  private inflight: Promise<CatalogReloadSummary> | null = null;
  private startedLoads = 0;
  private appliedLoad = 0;
  private subscriber: Redis | null = null;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
    private readonly loader: CatalogLoader,
    private readonly store: CatalogStore,
    private readonly audit: AuditService,
    // Per application instance (not Nest's process-wide static logger), so
    // each replica's lines go to its own destination.
    private readonly logger: PinoLogger,
  ) {
    logger.setContext(CatalogReloadService.name);
  }

  async onModuleInit(): Promise<void> {
    try {
      await this.refresh('start');
    } catch (err) {
      // Never a reason not to start: the process serves an empty catalog until a reload.
      this.logger.error({ err }, 'the catalog could not be loaded');
    }
    await this.subscribe();
  }

  async onApplicationShutdown(): Promise<void> {
    const subscriber = this.subscriber;
    this.subscriber = null;
    if (!subscriber) return;
    if (subscriber.status === 'ready') await subscriber.quit().catch(() => undefined);
    subscriber.disconnect();
  }

  /** The admin route: coalesced, rate-limited, propagated to every replica, audited. */
  async reload(actor: Actor): Promise<CatalogReloadSummary> {
    if (!this.inflight) {
      this.inflight = this.reloadEverywhere().finally(() => {
        this.inflight = null;
      });
    }
    const summary = await this.inflight;
    await this.audit.record({
      actorId: actorId(actor),
      action: AuditAction.CatalogReload,
      resourceType: 'catalog',
      ip: actor.ip,
    });
    return summary;
  }

  private async reloadEverywhere(): Promise<CatalogReloadSummary> {
    await this.claimWindow();
    const summary = await this.refresh('reload');
    try {
      const signal: ReloadSignal = { origin: this.instanceId };
      await this.redis.publish(reloadChannel(this.config.redis.prefix), JSON.stringify(signal));
    } catch (err) {
      // This replica has the new catalog but the others were not told: say
      // so instead of answering 200, and free the window for a retry.
      this.logger.error({ err }, 'could not signal the catalog reload to the other replicas');
      await this.redis.del(RELOAD_WINDOW_KEY).catch(() => undefined);
      throw DomainError.unavailable('The catalog could not be reloaded on every replica');
    }
    return summary;
  }

  private async claimWindow(): Promise<void> {
    let claimed: string | null;
    try {
      claimed = await this.redis.set(
        RELOAD_WINDOW_KEY,
        this.instanceId,
        'PX',
        RELOAD_WINDOW_MS,
        'NX',
      );
    } catch {
      throw DomainError.unavailable('Catalog reload is temporarily unavailable');
    }
    if (claimed === null) {
      const ttlMs = await this.redis.pttl(RELOAD_WINDOW_KEY).catch(() => RELOAD_WINDOW_MS);
      throw DomainError.rateLimited(
        'The catalog was reloaded less than 10 seconds ago; try again later',
        (ttlMs > 0 ? ttlMs : RELOAD_WINDOW_MS) / 1000,
      );
    }
  }

  /** Loads from disk and swaps the snapshot, unless a load started later already did. */
  private async refresh(
    reason: 'start' | 'reload' | 'signal' | 'reconnect',
  ): Promise<CatalogReloadSummary> {
    const sequence = ++this.startedLoads;
    const result = await this.loader.load();
    if (sequence > this.appliedLoad) {
      this.appliedLoad = sequence;
      this.store.replace(result);
    }
    for (const error of result.errors) {
      this.logger.warn({ file: error.file, reason: error.message }, 'catalog file skipped');
    }
    this.logger.info(
      { reason, loaded: result.apps.length, skipped: result.errors.length },
      'catalog loaded',
    );
    return Object.freeze({ loaded: result.apps.length, errors: result.errors });
  }

  private async subscribe(): Promise<void> {
    const channel = reloadChannel(this.config.redis.prefix);
    // Its own connection: a subscribed connection can run no other command.
    // Named, so an operator can tell it apart in CLIENT LIST.
    const subscriber = this.redis.duplicate({
      lazyConnect: true,
      autoResubscribe: false,
      connectionName: catalogSubscriberName(this.config.redis.prefix),
    });
    this.subscriber = subscriber;
    let started = false;
    let warned = false;
    let subscription: Promise<void> = Promise.resolve();
    subscriber.on('error', (err: Error) => {
      if (!warned) this.logger.warn({ err: { message: err.message } }, 'catalog signal error');
      warned = true;
    });
    subscriber.on('ready', () => {
      warned = false;
      subscription = subscriber.subscribe(channel).then(
        () => undefined,
        (err: unknown) => this.logger.warn({ err }, 'could not subscribe to catalog signals'),
      );
      // A connection that came (back) after start may have missed a signal.
      if (started) this.refreshInBackground('reconnect');
    });
    subscriber.on('message', (_channel: string, message: string) => {
      if (originOf(message) !== this.instanceId) this.refreshInBackground('signal');
    });
    // Start even when Redis is down; ioredis keeps reconnecting and 'ready' subscribes.
    await subscriber.connect().catch(() => undefined);
    // Subscribed before the app serves: a reload elsewhere right after start is not missed.
    await subscription;
    started = true;
  }

  private refreshInBackground(reason: 'signal' | 'reconnect'): void {
    this.refresh(reason).catch((err: unknown) => {
      this.logger.error({ err }, 'catalog reload failed; the previous catalog stays in service');
    });
  }
}

function originOf(message: string): string | null {
  try {
    const parsed = JSON.parse(message) as Partial<ReloadSignal> | null;
    return typeof parsed?.origin === 'string' ? parsed.origin : null;
  } catch {
    return null;
  }
}
