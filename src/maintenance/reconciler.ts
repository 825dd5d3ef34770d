import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Lock, withLock } from '../database/locks';
import { OperationReconciler, type OperationsReconciled } from './operation-reconciler';
import { OrphanReconciler, type OrphansReconciled } from './orphan-reconciler';
import { ReconcileMetrics } from './reconcile-metrics';

export type ReconcileSummary = OperationsReconciled & OrphansReconciled;

/**
 * One reconcile pass: overdue operations first (their compensation may
 * leave allocations or rules behind), then what outlived its application,
 * host by host. Passes never overlap, whichever process starts them: the
 * scheduled job and the CLI may run together.
 */
@Injectable()
export class Reconciler {
  constructor(
    @InjectPinoLogger(Reconciler.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly operations: OperationReconciler,
    private readonly orphans: OrphanReconciler,
    private readonly metrics: ReconcileMetrics,
  ) {}

  /** Overdue operations only: cheap enough for every minute. */
  async reconcileOperations(): Promise<OperationsReconciled> {
    return withLock(Lock.Reconciler, this.em.fork(), () => this.reconcileOverdue());
  }

  async reconcile(): Promise<ReconcileSummary> {
    // The lock's transaction only holds the lock; every change commits on its own.
    const summary = await withLock(Lock.Reconciler, this.em.fork(), async () => {
      const operations = await this.reconcileOverdue();
      const orphans = await this.orphans.reconcile();
      this.metrics.passEnded(orphans.hosts, orphans.summary.hostsSkipped.length);
      return { ...operations, ...orphans.summary };
    });
    this.logger.info(
      { ...summary, hostsSkipped: summary.hostsSkipped.map((h) => h.hostId) },
      'reconcile pass',
    );
    return summary;
  }

  private async reconcileOverdue(): Promise<OperationsReconciled> {
    const pass = await this.operations.reconcile();
    this.metrics.operationsChecked(pass.overdue);
    return pass.summary;
  }
}
