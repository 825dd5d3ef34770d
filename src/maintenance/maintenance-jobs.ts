import { InjectQueue } from '@nestjs/bull';
import { Global, Injectable, Module, OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { processJobs } from '../queue/operation-jobs';
import { QueueName } from '../queue/queue-names';

export type MaintenanceJobHandler = (job: Job) => Promise<unknown>;

// A long reconcile pass leaves room for a schedule's tick.
const CONCURRENCY = 2;

/**
 * The maintenance queue's jobs, whichever module runs them: one worker
 * takes every name. Each `process` registration of Bull sends a command on
 * the queue's blocking connection, where it waits behind every loop's
 * blocking read; one registration keeps a closing worker from leaving one
 * of them unanswered.
 */
@Injectable()
export class MaintenanceJobs implements OnApplicationBootstrap {
  private readonly handlers = new Map<string, MaintenanceJobHandler>();

  constructor(
    @InjectPinoLogger(MaintenanceJobs.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
  ) {}

  /** Called by worker modules in onModuleInit; the worker starts once the application has. */
  register(name: string, handler: MaintenanceJobHandler): void {
    if (this.handlers.has(name)) throw new Error(`two handlers for maintenance job ${name}`);
    this.handlers.set(name, handler);
  }

  onApplicationBootstrap(): void {
    // The API role registers none: it only enqueues.
    if (this.handlers.size === 0) return;
    processJobs(this.queue, '*', CONCURRENCY, (job) => this.run(job), this.logger);
  }

  private run(job: Job): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (!handler) return Promise.reject(new Error(`no handler for maintenance job ${job.name}`));
    return handler(job);
  }
}

@Global()
@Module({ providers: [MaintenanceJobs], exports: [MaintenanceJobs] })
export class MaintenanceJobsModule {}
