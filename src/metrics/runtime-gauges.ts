import { MikroORM } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { Gauge } from 'prom-client';
import { QueueName } from '../queue/queue-names';
import { MetricsRegistry } from './metrics.registry';

const SCRAPE_BUDGET_MS = 500;
const JOB_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

interface TarnPool {
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
}

function within<T>(work: Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), SCRAPE_BUDGET_MS);
  });
  return Promise.race([work.catch(() => null), timeout]).finally(() => clearTimeout(timer));
}

/** Queue depth and database pool usage, read at scrape time. */
@Injectable()
export class RuntimeGauges implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsRegistry,
    private readonly orm: MikroORM,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const queues = Object.values(QueueName).map((name) => ({
      name,
      queue: this.moduleRef.get<Queue>(getQueueToken(name), { strict: false }),
    }));
    new Gauge({
      name: 'proximity_queue_jobs',
      help: 'Jobs per queue and state (absent while Redis does not answer)',
      labelNames: ['queue', 'state'] as const,
      registers: [this.metrics.registry],
      async collect() {
        this.reset();
        for (const { name, queue } of queues) {
          // A scrape must not hang on a Redis outage.
          const counts = await within(queue.getJobCounts());
          if (!counts) continue;
          for (const state of JOB_STATES) this.set({ queue: name, state }, counts[state]);
        }
      },
    });
    const pool = (): TarnPool =>
      (this.orm.em.getConnection().getKnex().client as { pool: TarnPool }).pool;
    new Gauge({
      name: 'proximity_db_pool_connections',
      help: 'Database pool connections by state',
      labelNames: ['state'] as const,
      registers: [this.metrics.registry],
      collect() {
        const current = pool();
        this.set({ state: 'used' }, current.numUsed());
        this.set({ state: 'free' }, current.numFree());
        this.set({ state: 'pending' }, current.numPendingAcquires());
      },
    });
  }
}
