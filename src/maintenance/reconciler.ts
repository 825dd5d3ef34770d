import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Lock, withLock } from '../database/locks';
import { OperationReconciler, type OperationsReconciled } from './operation-reconciler';
import { OrphanReconciler, type OrphansReconciled } from './orphan-reconciler';

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
  ) {}

  /** Overdue operations only: cheap enough for every minute. */
  async reconcileOperations(): Promise<OperationsReconciled> {
    return withLock(Lock.Reconciler, this.em.fork(), () => this.operations.reconcile());
  }

  async reconcile(): Promise<ReconcileSummary> {
    // The lock's transaction only holds the lock; every change commits on its own.
    const summary = await withLock(Lock.Reconciler, this.em.fork(), async () => ({
      ...(await this.operations.reconcile()),
      ...(await this.orphans.reconcile()),
    }));
    this.logger.info(
      { ...summary, hostsSkipped: summary.hostsSkipped.map((h) => h.hostId) },
      'reconcile pass',
    );
    return summary;
  }
}
