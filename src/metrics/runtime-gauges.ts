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

interface PoolRow {
  host: string;
  size: number;
  used: string;
}

// Counted as GET /api/ports counts them: ports of the range held by any allocation.
const POOL_USAGE_SQL = `select h.name as host, h.port_max - h.port_min + 1 as size,
       count(distinct p.port) filter (where p.port between h.port_min and h.port_max) as used
  from proxmox_host h left join port_allocation p on p.host_id = h.id
 group by h.id`;

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

/** Queue depth, database pool and port pool usage, read at scrape time. */
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
    this.portPoolGauges();
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

  /**
   * prom-client collects every metric of a scrape at once: both gauges share
   * the query in flight, so a scrape runs it once. Both are absent while the
   * database does not answer.
   */
  private portPoolGauges(): void {
    const em = this.orm.em;
    let inFlight: Promise<PoolRow[] | null> | undefined;
    const usage = (): Promise<PoolRow[] | null> =>
      (inFlight ??= within(em.getConnection().execute<PoolRow[]>(POOL_USAGE_SQL)).finally(() => {
        inFlight = undefined;
      }));
    const gauge = (name: string, help: string, value: (row: PoolRow) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['host'] as const,
        registers: [this.metrics.registry],
        async collect() {
          const rows = await usage();
          this.reset();
          for (const row of rows ?? []) this.set({ host: row.host }, value(row));
        },
      });
    gauge('proximity_port_pool_size', 'Public ports in the range of each host', (row) => row.size);
    gauge(
      'proximity_port_pool_used',
      'Public ports of the range of each host held by an allocation',
      (row) => Number(row.used),
    );
  }
}
