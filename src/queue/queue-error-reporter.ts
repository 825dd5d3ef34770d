import { getQueueToken } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { QueueName } from './queue-names';

/**
 * A Bull queue re-emits its Redis connection errors as 'error' events; with no
 * listener, Node turns the first one into an uncaught exception and the
 * process dies during a Redis outage. Readiness reports the outage instead.
 */
@Injectable()
export class QueueErrorReporter implements OnModuleInit {
  constructor(
    @InjectPinoLogger(QueueErrorReporter.name) private readonly logger: PinoLogger,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    for (const name of Object.values(QueueName)) {
      const queue = this.moduleRef.get<Queue>(getQueueToken(name), { strict: false });
      let reported = false;
      queue.on('error', (err: Error) => {
        if (!reported)
          this.logger.warn({ queue: name, err: { message: err.message } }, 'queue error');
        reported = true;
      });
    }
  }
}
