import { Injectable } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsRegistry } from '../metrics/metrics.registry';
import type { HostOrphans } from './orphan-reconciler';

const KINDS = ['allocation', 'rule', 'container', 'snapshot', 'vanished_guest'] as const;

/**
 * What the last reconcile pass of this worker found. Only worker processes
 * run passes, so only their /metrics carry these; each pass replaces what
 * the previous one set.
 */
@Injectable()
export class ReconcileMetrics {
  private readonly orphans: Gauge<'kind' | 'host'>;
  private readonly overdue: Gauge;
  private readonly lastRun: Gauge;
  private readonly hostsSkipped: Gauge;

  constructor(metrics: MetricsRegistry) {
    const registers = [metrics.registry];
    this.orphans = new Gauge({
      name: 'proximity_orphans_found',
      help: 'What the last reconcile pass found left behind, by kind and host (skipped hosts absent)',
      labelNames: ['kind', 'host'] as const,
      registers,
    });
    this.overdue = new Gauge({
      name: 'proximity_operations_overdue',
      help: 'Operations past their deadline found by the last reconcile pass',
      registers,
    });
    this.lastRun = new Gauge({
      name: 'proximity_reconcile_last_run_timestamp_seconds',
      help: 'Unix time at which the last full reconcile pass of this worker ended',
      registers,
    });
    this.hostsSkipped = new Gauge({
      name: 'proximity_reconcile_hosts_skipped',
      help: 'Hosts the last full reconcile pass could not list and left alone',
      registers,
    });
  }

  operationsChecked(overdue: number): void {
    this.overdue.set(overdue);
  }

  passEnded(hosts: readonly HostOrphans[], hostsSkipped: number): void {
    // A host deleted since the previous pass must not keep its old values.
    this.orphans.reset();
    for (const found of hosts) {
      for (const kind of KINDS) this.orphans.set({ kind, host: found.host }, found[kind]);
    }
    this.hostsSkipped.set(hostsSkipped);
    this.lastRun.setToCurrentTime();
  }
}
