import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type OperationOutcome = 'succeeded' | 'failed';

/** What an operation's end needs to be counted: its type and when it began. */
export interface EndedOperation {
  type: string;
  startedAt: Date | null;
  createdAt: Date;
}

/** One registry per application instance (tests run several in one process). */
@Injectable()
export class MetricsRegistry {
  readonly registry = new Registry();

  readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request durations by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  private readonly operationsTotal = new Counter({
    name: 'proximity_operations_total',
    help: 'Operations ended, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });

  private readonly operationDuration = new Histogram({
    name: 'proximity_operation_duration_seconds',
    help: 'Time from an operation start (or creation when it never started) to its end, by type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  private readonly retries = new Counter({
    name: 'proximity_operation_retries_total',
    help: 'Operation attempts that failed and will be retried, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly requeued = new Counter({
    name: 'proximity_operations_requeued_total',
    help: 'Operations whose job the queue lost, put back on it before their deadline, by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly compensations = new Counter({
    name: 'proximity_operation_compensations_total',
    help: 'Operations that ended by undoing what they made (compensation), by type',
    labelNames: ['type'] as const,
    registers: [this.registry],
  });

  private readonly ready = new Gauge({
    name: 'proximity_ready',
    help: 'What the last GET /health/ready answered: 1 ready, 0 not ready (0 before the first probe)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  readinessProbed(ready: boolean): void {
    this.ready.set(ready ? 1 : 0);
  }

  operationEnded(op: EndedOperation, outcome: OperationOutcome): void {
    const began = (op.startedAt ?? op.createdAt).getTime();
    this.operationsTotal.inc({ type: op.type, outcome });
    this.operationDuration.observe(
      { type: op.type, outcome },
      Math.max(0, (Date.now() - began) / 1000),
    );
  }

  operationRetried(type: string): void {
    this.retries.inc({ type });
  }

  operationRequeued(type: string): void {
    this.requeued.inc({ type });
  }

  operationCompensated(type: string): void {
    this.compensations.inc({ type });
  }
}
