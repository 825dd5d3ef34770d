import { BullModule } from '@nestjs/bull';
import { Global, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

export const QueueName = {
  Maintenance: 'maintenance',
} as const;

/** Bull on REDIS_URL, with retries that are bounded, backed off and jittered by default. */
@Global()
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [AppConfig],
      useFactory: (config: AppConfig) => ({
        url: config.redis.url,
        prefix: `${config.redis.prefix}:bull`,
        defaultJobOptions: {
          attempts: 3,
          backoff: { type: 'exponential', delay: 2000 },
          removeOnComplete: 1000,
          removeOnFail: 5000,
        },
      }),
    }),
    BullModule.registerQueue({ name: QueueName.Maintenance }),
  ],
  exports: [BullModule],
})
export class QueueModule {}
