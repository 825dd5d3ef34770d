import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type Redis from 'ioredis';
import { REDIS } from '../redis/redis.module';

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('probe timed out')), PROBE_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Up or down only: a probe answer never carries an error text. */
@Injectable()
export class DependencyProbes {
  constructor(
    private readonly indicator: HealthIndicatorService,
    private readonly em: EntityManager,
    @Inject(REDIS) private readonly redisClient: Redis,
  ) {}

  database(key: string): Promise<HealthIndicatorResult> {
    return this.probe(key, () => this.em.getConnection().execute('select 1'));
  }

  redis(key: string): Promise<HealthIndicatorResult> {
    return this.probe(key, () => this.redisClient.ping());
  }

  private async probe(key: string, work: () => Promise<unknown>): Promise<HealthIndicatorResult> {
    const check = this.indicator.check(key);
    try {
      await withTimeout(work());
      return check.up();
    } catch {
      return check.down();
    }
  }
}
