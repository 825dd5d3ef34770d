import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import {
  type BuiltPlan,
  CatalogAppGone,
  DeployPlanBuilder,
} from '../applications/deploy/deploy-plan.builder';
import { rawFailure } from '../applications/deploy/deploy-wording';
import { AppConfig } from '../config/app-config';
import { LogLevel } from '../operations/deployment-log.entity';
import { Operation, OperationType } from '../operations/operation.entity';
import { type OverdueOperationHandler, OverdueOperations } from '../operations/overdue-operations';
import { StepFailure, StepRunner } from '../operations/step-runner';
import { type OperationJobData, processOperationJobs } from '../queue/operation-jobs';
import { QueueName } from '../queue/queue-names';
import { BACKUP_JOB } from './backup.queue';
import { type BackupOperationType, type BackupPlan, BackupSteps } from './backup.steps';
import { BackupStepError, classifyBackupFailure, describeBackupFailure } from './backup-errors';
import { BackupOutcomes } from './backup-outcomes';

const TYPES: readonly BackupOperationType[] = [
  OperationType.Backup,
  OperationType.Restore,
  OperationType.BackupDelete,
];

const CATALOG_APP_GONE = "the application's catalog app is no longer in the catalog";

export const OVERDUE_WORDING: Record<BackupOperationType, string> = {
  [OperationType.Backup]: 'the backup was interrupted and did not finish in time',
  [OperationType.Restore]: 'the restore was interrupted and did not finish in time',
  [OperationType.BackupDelete]: 'the backup delete was interrupted and did not finish in time',
};

/**
 * Runs backup, restore and backup-delete operations with the step runner;
 * a retryable failure is retried with the queue's backoff, the last attempt
 * ends the operation and its rows. It also tells the reconciler how to end
 * such an operation that outlived its deadline.
 */
@Injectable()
export class BackupProcessor implements OnModuleInit, OverdueOperationHandler {
  readonly types = TYPES;

  constructor(
    @InjectPinoLogger(BackupProcessor.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Backup) readonly queue: Queue<OperationJobData>,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly steps: BackupSteps,
    private readonly outcomes: BackupOutcomes,
    private readonly overdue: OverdueOperations,
  ) {}

  onModuleInit(): void {
    this.overdue.register(this);
    processOperationJobs(
      this.queue,
      BACKUP_JOB,
      this.config.jobs.deployConcurrency,
      (operationId, failedAttempts) => this.handle(operationId, failedAttempts),
      this.logger,
    );
  }

  jobName(): string {
    return BACKUP_JOB;
  }

  deadlineMs(type: OperationType): number {
    const { backupDeadlineMs, restoreDeadlineMs, actionDeadlineMs } = this.config.jobs;
    if (type === OperationType.Backup) return backupDeadlineMs;
    if (type === OperationType.Restore) return restoreDeadlineMs;
    return actionDeadlineMs;
  }

  async end(op: Operation): Promise<void> {
    await this.outcomes.fail(op, OVERDUE_WORDING[op.type as BackupOperationType]);
  }

  async handle(operationId: string, failedAttempts: number): Promise<void> {
    const start = await this.runner.beginAttempt(operationId, failedAttempts);
    if (!start) return;
    const { operation: op, attempt, last, line } = start;
    const type = op.type as BackupOperationType;
    const applicationId = op.application.id;
    const backup = await this.outcomes.backupOf(operationId);
    if (!backup) return;
    let built: BuiltPlan;
    try {
      built = await this.plans.build(applicationId);
    } catch (err) {
      // Another attempt would not bring the catalog app back: end the operation now.
      if (!(err instanceof CatalogAppGone)) throw err;
      await this.outcomes.fail(op, CATALOG_APP_GONE);
      return;
    }
    const log = { operationId, applicationId, secrets: built.secrets };
    const plan: BackupPlan = {
      ...built.plan,
      backup: {
        id: backup.id,
        mode: backup.mode,
        compress: backup.compress,
        storage: built.host.backupStorage,
        volid: backup.volid,
        taskUpid: backup.taskUpid,
        startAfterRestore: backup.startAfterRestore === true,
        scheduled: backup.scheduled,
      },
      deadlineAt: op.createdAt.getTime() + this.deadlineMs(type),
      report: (message) => this.runner.log(log, null, LogLevel.Info, message),
    };
    await this.runner.log(log, null, LogLevel.Info, `${type}: ${line}`);
    try {
      const state = await this.runner.run({
        ...log,
        steps: this.steps.of(type, plan.backup.startAfterRestore),
        plan,
        state: built.application.ipAddress ? { ipAddress: built.application.ipAddress } : {},
        describe: describeBackupFailure,
      });
      await this.outcomes.succeed(op, state.ipAddress ?? null);
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeBackupFailure(err);
      const upstream = cause instanceof BackupStepError && cause.cause ? cause.cause : cause;
      this.logger.warn(
        { operationId, attempt, failure: rawFailure(upstream, built.secrets) },
        `${type} step failed`,
      );
      if (!last && classifyBackupFailure(cause) === 'retryable') {
        await this.runner.retrying(log, type, attempt);
        throw err;
      }
      await this.outcomes.fail(op, message);
    }
  }
}
