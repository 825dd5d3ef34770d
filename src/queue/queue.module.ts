import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { QueueLifecycle } from './queue-lifecycle';
import { QueueName } from './queue-names';
import { jitteredBackoff } from './retry-backoff';

export const DEFAULT_ATTEMPTS = 3;

/** Bull on REDIS_URL; retries are bounded, exponential, capped and jittered by default. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        url: config.redis.url,
        prefix: `${config.redis.prefix}:bull`,
        settings: {
          // A job of a worker that died runs again on another within about
          // lockDuration + 2 × stalledInterval (Bull marks it, then moves it).
          lockDuration: config.jobs.lockMs,
          stalledInterval: config.jobs.stalledCheckMs,
          backoffStrategies: { jittered: (attemptsMade: number) => jitteredBackoff(attemptsMade) },
        },
        defaultJobOptions: {
          attempts: DEFAULT_ATTEMPTS,
          backoff: { type: 'jittered' },
          removeOnComplete: 1000,
          removeOnFail: 5000,
        },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Maintenance }),
  ],
  providers: [QueueLifecycle],
  exports: [BullModule],
})
export class QueueModule {}
