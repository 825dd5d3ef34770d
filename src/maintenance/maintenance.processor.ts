import { CreateRequestContext, MikroORM } from '@mikro-orm/core';
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { ApiTokensService } from '../auth/api-tokens.service';
import { SessionsService } from '../sessions/sessions.service';
import { MaintenanceJobs } from './maintenance-jobs';
import type { OperationsReconciled } from './operation-reconciler';
import { Reconciler, type ReconcileSummary } from './reconciler';

export const PRUNE_CREDENTIALS_JOB = 'prune-expired-credentials';
export const RECONCILE_OPERATIONS_JOB = 'reconcile-operations';
/** A whole pass: overdue operations and orphans (scheduled less often; what the CLI asks for). */
export const RECONCILE_JOB = 'reconcile';
const HOURLY = '17 * * * *';
const EVERY_MINUTE = '* * * * *';
// The orphan sweep reads every host's guests, rules and snapshots: not every minute.
const EVERY_FIVE_MINUTES = '*/5 * * * *';
// Kept a day past expiry so a late "token expired" answer can still be explained from the rows.
const GRACE_MS = 86_400_000;

/** The maintenance module's jobs: pruning credentials and reconciling. */
@Injectable()
export class MaintenanceProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(MaintenanceProcessor.name) private readonly logger: PinoLogger,
    private readonly jobs: MaintenanceJobs,
    // Read by @CreateRequestContext to give each job its own identity map.
    readonly orm: MikroORM,
    private readonly sessions: SessionsService,
    private readonly apiTokens: ApiTokensService,
    private readonly reconciler: Reconciler,
  ) {}

  onModuleInit(): void {
    this.jobs.register(PRUNE_CREDENTIALS_JOB, () => this.pruneExpiredCredentials(), HOURLY);
    this.jobs.register(RECONCILE_OPERATIONS_JOB, () => this.reconcileOperations(), EVERY_MINUTE);
    this.jobs.register(RECONCILE_JOB, () => this.reconcile(), EVERY_FIVE_MINUTES);
  }

  @CreateRequestContext()
  async pruneExpiredCredentials(): Promise<{ refreshTokens: number; apiTokens: number }> {
    const before = new Date(Date.now() - GRACE_MS);
    const refreshTokens = await this.sessions.pruneExpired(before);
    const apiTokens = await this.apiTokens.pruneExpired(before);
    this.logger.info({ refreshTokens, apiTokens }, 'pruned expired credentials');
    return { refreshTokens, apiTokens };
  }

  @CreateRequestContext()
  async reconcileOperations(): Promise<OperationsReconciled> {
    return this.reconciler.reconcileOperations();
  }

  @CreateRequestContext()
  async reconcile(): Promise<ReconcileSummary> {
    return this.reconciler.reconcile();
  }
}
