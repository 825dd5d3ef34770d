import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/errors/domain-error';
import { REDIS } from '../redis/redis.module';

/**
 * Counts failed logins per username and client address in Redis, so the
 * limit holds across every API replica. A fixed window starts at the first
 * failure; a success clears it.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  /** Throws 429 with Retry-After while the pair is locked out. */
  async assertAllowed(username: string, ip: string): Promise<void> {
    const key = this.key(username, ip);
    const [count, ttlMs] = await this.guard(async () => {
      const pipeline = this.redis.multi().get(key).pttl(key);
      const results = (await pipeline.exec()) ?? [];
      return [Number(results[0]?.[1] ?? 0), Number(results[1]?.[1] ?? -1)] as const;
    });
    if (count >= this.config.auth.loginMaxFailures) {
      const retryAfter = ttlMs > 0 ? ttlMs / 1000 : this.config.auth.loginWindowSeconds;
      throw DomainError.rateLimited('Too many failed logins; try again later', retryAfter);
    }
  }

  async recordFailure(username: string, ip: string): Promise<void> {
    const key = this.key(username, ip);
    await this.guard(async () => {
      const count = await this.redis.incr(key);
      if (count === 1) await this.redis.expire(key, this.config.auth.loginWindowSeconds);
    });
  }

  async reset(username: string, ip: string): Promise<void> {
    await this.guard(() => this.redis.del(this.key(username, ip)));
  }

  private key(username: string, ip: string): string {
    // Hashed: usernames typed at a login form may be passwords pasted in the wrong field.
    const id = createHash('sha256').update(`${username.toLowerCase()}\n${ip}`).digest('hex');
    return `login-failures:${id}`;
  }

  /** Without its counters the lockout cannot be enforced: refuse logins rather than allow guessing. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch {
      throw DomainError.unavailable('Login is temporarily unavailable');
    }
  }
}
