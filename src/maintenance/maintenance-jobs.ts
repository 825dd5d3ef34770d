import { InjectQueue } from '@nestjs/bull';
import {
  Global,
  Injectable,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { processJobs } from '../queue/operation-jobs';
import { QueueName } from '../queue/queue-names';

export type MaintenanceJobHandler = (job: Job) => Promise<unknown>;

// A long reconcile pass leaves room for a schedule's tick.
const CONCURRENCY = 2;
// Redis may lose its data (a restart without persistence): the timers come back within this.
const TIMERS_CHECK_MS = 60_000;

interface Registration {
  handler: MaintenanceJobHandler;
  /** Run on this schedule (a Bull repeatable job: one job per tick, whatever the number of workers). */
  cron?: string;
}

/**
 * The maintenance queue's jobs, whichever module runs them: one worker
 * takes every name. Each `process` registration of Bull sends a command on
 * the queue's blocking connection, where it waits behind every loop's
 * blocking read; one registration keeps a closing worker from leaving one
 * of them unanswered.
 */
@Injectable()
export class MaintenanceJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly jobs = new Map<string, Registration>();
  private timersCheck: NodeJS.Timeout | null = null;

  constructor(
    @InjectPinoLogger(MaintenanceJobs.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Maintenance) private readonly queue: Queue,
  ) {}

  /**
   * Called by worker modules in onModuleInit; the worker starts once the
   * application has. With `cron`, the job also runs on that schedule.
   */
  register(name: string, handler: MaintenanceJobHandler, cron?: string): void {
    if (this.jobs.has(name)) throw new Error(`two handlers for maintenance job ${name}`);
    this.jobs.set(name, { handler, cron });
  }

  onApplicationBootstrap(): void {
    // The API role registers none: it only enqueues.
    if (this.jobs.size === 0) return;
    processJobs(this.queue, '*', CONCURRENCY, (job) => this.run(job), this.logger);
    // Not awaited: with Redis down the process must still start (and report itself not ready).
    void this.ensureTimers();
    this.timersCheck = setInterval(() => void this.ensureTimers(), TIMERS_CHECK_MS);
    this.timersCheck.unref();
  }

  onApplicationShutdown(): void {
    if (this.timersCheck) clearInterval(this.timersCheck);
  }

  /**
   * Adds each scheduled job's repeatable timer; one that Redis still has is
   * left as it is (the same key), so every worker may do it every minute.
   */
  async ensureTimers(): Promise<void> {
    for (const [name, { cron }] of this.jobs) {
      if (!cron) continue;
      await this.queue.add(name, {}, { repeat: { cron }, jobId: name }).catch((err: Error) => {
        this.logger.warn({ err: { message: err.message }, job: name }, 'could not schedule a job');
      });
    }
  }

  private run(job: Job): Promise<unknown> {
    const registration = this.jobs.get(job.name);
    if (!registration) {
      return Promise.reject(new Error(`no handler for maintenance job ${job.name}`));
    }
    return registration.handler(job);
  }
}

@Global()
@Module({ providers: [MaintenanceJobs], exports: [MaintenanceJobs] })
export class MaintenanceJobsModule {}
