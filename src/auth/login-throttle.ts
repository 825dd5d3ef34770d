import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import { createHash } from 'node:crypto';
import { AppConfig } from '../config/app-config';
import { DomainError } from '../common/errors/domain-error';
import { REDIS } from '../redis/redis.module';

/**
 * Counts the attempt and starts the window in one atomic step. The expiry is
 * also set when the key has none, so a counter left without one (by a client
 * that died between INCR and EXPIRE) cannot lock a pair forever.
 * Returns the attempt number and the window's remaining milliseconds.
 */
const COUNT_ATTEMPT = `
local attempts = redis.call('INCR', KEYS[1])
if attempts == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return { attempts, redis.call('PTTL', KEYS[1]) }
`;

/** The Redis key (before the client's prefix) of a username and client address. */
export function loginThrottleKey(username: string, ip: string): string {
  // Hashed: usernames typed at a login form may be passwords pasted in the wrong field.
  const id = createHash('sha256').update(`${username.toLowerCase()}\n${ip}`).digest('hex');
  return `login-failures:${id}`;
}

/**
 * Limits password guesses per username and client address, in Redis so the
 * limit holds across every API replica. Each attempt is counted before the
 * password is checked, so parallel guesses cannot slip past the limit; a
 * success clears the count. A fixed window starts at the first attempt.
 */
@Injectable()
export class LoginThrottle {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: AppConfig,
  ) {}

  /** Counts one attempt; throws 429 with Retry-After when it is beyond the limit. */
  async attempt(username: string, ip: string): Promise<void> {
    const { loginMaxFailures, loginWindowSeconds } = this.config.auth;
    const [attempts, ttlMs] = await this.guard(async () => {
      const reply = (await this.redis.eval(
        COUNT_ATTEMPT,
        1,
        loginThrottleKey(username, ip),
        loginWindowSeconds * 1000,
      )) as [number, number];
      return reply;
    });
    if (attempts > loginMaxFailures) {
      const retryAfter = ttlMs > 0 ? ttlMs / 1000 : loginWindowSeconds;
      throw DomainError.rateLimited('Too many failed attempts; try again later', retryAfter);
    }
  }

  async reset(username: string, ip: string): Promise<void> {
    await this.guard(() => this.redis.del(loginThrottleKey(username, ip)));
  }

  /** Without its counters the lockout cannot be enforced: refuse rather than allow guessing. */
  private async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch {
      throw DomainError.unavailable('Login is temporarily unavailable');
    }
  }
}
