import { getQueueToken } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { QueueName } from './queue-names';

type ClosableQueue = Queue & { onApplicationShutdown?: () => Promise<void> };

/**
 * Keeps a Redis outage from failing the process through its queues: errors
 * are logged once (readiness reports the outage), and closing a queue whose
 * connection never came up, which Bull rejects with the connection error,
 * no longer fails the whole shutdown.
 */
@Injectable()
export class QueueLifecycle implements OnModuleInit {
  constructor(
    @InjectPinoLogger(QueueLifecycle.name) private readonly logger: PinoLogger,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const name of Object.values(QueueName)) {
      const queue = this.moduleRef.get<ClosableQueue>(getQueueToken(name), { strict: false });
      let reported = false;
      queue.on('error', (err: Error) => {
        if (!reported)
          this.logger.warn({ queue: name, err: { message: err.message } }, 'queue error');
        reported = true;
      });
      // Replaces the hook @nestjs/bull installs (`return this.close()`).
      queue.onApplicationShutdown = () =>
        queue.close().catch((err: Error) => {
          this.logger.warn(
            { queue: name, err: { message: err.message } },
            'queue closed uncleanly',
          );
        });
    }
  }
}
