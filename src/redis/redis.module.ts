import { Global, Inject, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import Redis from 'ioredis';
import { PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';

/** The shared Redis connection for counters, locks and signals (Bull keeps its own). */
export const REDIS = Symbol('REDIS');

const CONNECT_WAIT_MS = 2000;

async function createRedis(config: AppConfig, logger: PinoLogger): Promise<Redis> {
  const client = new Redis(config.redis.url, {
    keyPrefix: `${config.redis.prefix}:`,
    lazyConnect: true,
    // Fail a command at once while disconnected instead of queueing it
    // behind an outage: callers answer 503 rather than hang.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: CONNECT_WAIT_MS,
    commandTimeout: 2000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let warned = false;
  client.on('error', (err: Error) => {
    if (!warned) logger.warn({ err: { message: err.message } }, 'redis connection error');
    warned = true;
  });
  client.on('ready', () => {
    warned = false;
  });
  // Start even when Redis is down: readiness reports it, and ioredis keeps reconnecting.
  await client.connect().catch(() => undefined);
  return client;
}

@Injectable()
class RedisCloser implements OnApplicationShutdown {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    // QUIT only reaches a live server; otherwise stop the reconnect loop directly.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: REDIS,
      inject: [AppConfig, PinoLogger],
      useFactory: (config: AppConfig, logger: PinoLogger) => createRedis(config, logger),
    },
    RedisCloser,
  ],
  exports: [REDIS],
})
export class RedisModule {}
