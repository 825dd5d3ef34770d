import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { Operation, OperationType } from '../../operations/operation.entity';
import { OverdueOperations } from '../../operations/overdue-operations';
import { StepRunner } from '../../operations/step-runner';
import { type OperationJobData, processOperationJobs } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { Application } from '../application.entity';
import { temporarySnapshotName } from '../deploy/container-ownership';
import { DeployCompensation } from '../deploy/deploy-compensation';
import { DeployOutcome } from '../deploy/deploy-outcome';
import { type BuiltPlan, DeployPlanBuilder } from '../deploy/deploy-plan.builder';
import { CLONE_JOB } from '../deploy/deploy.queue';
import { type ClonePlan, CloneSteps, snapshotOf } from './clone.steps';
import { SourceSnapshot } from './source-snapshot';

export const CLONE_ABANDONED = 'the clone was interrupted and did not finish in time';

interface BuiltClone extends BuiltPlan {
  plan: ClonePlan;
}

/**
 * Runs clone jobs (on the deploy queue, as deployments): each attempt builds
 * the new application's plan from the rows and runs the named steps,
 * resuming where the last attempt stopped. The application stays `cloning`
 * until the last attempt fails; then compensation removes the forwarding,
 * the new container and the temporary snapshot, gives the VMID and ports
 * back, and the application shows `error` with its logs kept.
 */
@Injectable()
export class CloneProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(CloneProcessor.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Deploy) private readonly queue: Queue<OperationJobData>,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly cloneSteps: CloneSteps,
    private readonly snapshot: SourceSnapshot,
    private readonly compensation: DeployCompensation,
    private readonly outcome: DeployOutcome,
    private readonly overdue: OverdueOperations,
  ) {}

  onModuleInit(): void {
    processOperationJobs(
      this.queue,
      CLONE_JOB,
      this.config.jobs.deployConcurrency,
      (operationId, failedAttempts) => this.handle(operationId, failedAttempts),
      this.logger,
    );
    this.overdue.register({
      types: [OperationType.Clone],
      queue: this.queue,
      jobName: () => CLONE_JOB,
      deadlineMs: () => this.config.jobs.deployDeadlineMs,
      end: (op) => this.end(op),
    });
  }

  /** One attempt. Throws only to have Bull retry it (with its jittered backoff). */
  handle(operationId: string, failedAttempts: number): Promise<void> {
    return this.outcome.attempt<BuiltClone>(
      {
        kind: 'clone',
        noun: 'the clone',
        doneWord: 'cloned',
        steps: this.cloneSteps.steps,
        build: (applicationId, id) => this.build(applicationId, id),
        compensate: (built, id, message) => this.compensate(built, id, message),
        markFailed: (applicationId, id, message) =>
          this.compensation.markFailed(applicationId, id, message),
      },
      operationId,
      failedAttempts,
    );
  }

  /** The reconciler's end of a clone whose job was lost: the same compensation as a last failure. */
  private async end(op: Operation): Promise<void> {
    const applicationId = op.application.id;
    await this.runner.log(
      { operationId: op.id, applicationId, secrets: [] },
      null,
      LogLevel.Error,
      CLONE_ABANDONED,
    );
    const app = await this.em.fork().findOneOrFail(Application, { id: applicationId });
    if (app.vmid === null) {
      await this.compensation.markFailed(applicationId, op.id, CLONE_ABANDONED);
      return;
    }
    await this.compensate(await this.build(applicationId, op.id), op.id, CLONE_ABANDONED);
  }

  private compensate(built: BuiltClone, operationId: string, message: string): Promise<void> {
    return this.compensation.compensate(built, operationId, message, [
      { name: 'remove_snapshot', run: () => this.snapshot.remove(snapshotOf(built.plan)).then() },
    ]);
  }

  private async build(applicationId: string, operationId: string): Promise<BuiltClone> {
    const built = await this.plans.build(applicationId);
    const clonedFrom = built.application.clonedFrom;
    const source = clonedFrom
      ? await this.em.fork().findOne(Application, { id: clonedFrom.id })
      : null;
    if (!source || source.vmid === null) {
      throw new Error('the application cloned from holds no container any more');
    }
    return {
      ...built,
      plan: {
        ...built.plan,
        sourceVmid: source.vmid,
        snapshotName: temporarySnapshotName(operationId),
      },
    };
  }
}
