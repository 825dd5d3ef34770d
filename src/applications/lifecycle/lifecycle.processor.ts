import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { MetricsRegistry } from '../../metrics/metrics.registry';
import { LogLevel } from '../../operations/deployment-log.entity';
import { type Operation, OperationType } from '../../operations/operation.entity';
import { StepFailure, type StepRun, StepRunner } from '../../operations/step-runner';
import { type OperationJobData, processOperationJobs } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { AdoptedPlanBuilder } from '../adopt/adopted-plan.builder';
import { AdoptedSteps } from '../adopt/adopted.steps';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { classifyFailure } from '../deploy/deploy-errors';
import { DeployPlanBuilder } from '../deploy/deploy-plan.builder';
import type { DeployState } from '../deploy/deploy.steps';
import { describeFailure, rawFailure } from '../deploy/deploy-wording';
import { LIFECYCLE_JOB } from './lifecycle.queue';
import { type LifecycleType, LifecycleSteps } from './lifecycle.steps';

const OUTCOME: Record<LifecycleType, ApplicationStatus | null> = {
  [OperationType.Start]: ApplicationStatus.Running,
  [OperationType.Restart]: ApplicationStatus.Running,
  [OperationType.Stop]: ApplicationStatus.Stopped,
  // A delete that succeeds removes the row.
  [OperationType.Delete]: null,
};

/** One attempt's steps over its plan; the runner's other inputs come from the operation. */
interface LifecycleWork {
  secrets: string[];
  run(base: Omit<StepRun<unknown, DeployState>, 'steps' | 'plan'>): Promise<DeployState>;
}

/**
 * Runs lifecycle operations with the step runner. The application keeps its
 * transitional status until the operation succeeds (running, stopped, or the
 * row deleted once its container is gone) or its last attempt fails (error).
 */
@Injectable()
export class LifecycleProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(LifecycleProcessor.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<OperationJobData>,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly steps: LifecycleSteps,
    private readonly allocator: ApplicationAllocator,
    private readonly adoptedPlans: AdoptedPlanBuilder,
    private readonly adoptedSteps: AdoptedSteps,
    private readonly metrics: MetricsRegistry,
  ) {}

  onModuleInit(): void {
    processOperationJobs(
      this.queue,
      LIFECYCLE_JOB,
      this.config.jobs.deployConcurrency,
      (operationId, failedAttempts) => this.handle(operationId, failedAttempts),
      this.logger,
    );
  }

  async handle(operationId: string, failedAttempts: number): Promise<void> {
    const start = await this.runner.beginAttempt(operationId, failedAttempts);
    if (!start) return;
    const { operation: op, attempt, last, line } = start;
    const type = op.type as LifecycleType;
    const applicationId = op.application.id;
    const app = await this.em.fork().findOneOrFail(Application, { id: applicationId });
    // A delete of an application whose container is gone (a deploy that failed): nothing to
    // do on Proxmox.
    if (type === OperationType.Delete && app.vmid === null) {
      this.metrics.operationEnded(op, 'succeeded');
      await this.allocator.discard(applicationId);
      return;
    }
    const work = app.adopted
      ? await this.adoptedWork(type, applicationId, op.options?.destroy === true)
      : await this.deployedWork(type, applicationId);
    const log = { operationId, applicationId, secrets: work.secrets };
    await this.runner.log(log, null, LogLevel.Info, `${type}: ${line}`);
    try {
      const state = await work.run({
        ...log,
        state: app.ipAddress ? { ipAddress: app.ipAddress } : {},
        describe: describeFailure,
      });
      await this.succeed(op, applicationId, state);
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeFailure(err);
      this.logRaw(operationId, attempt, cause, work.secrets);
      if (!last && classifyFailure(cause) === 'retryable') {
        await this.runner.retrying(log, type, attempt);
        throw err;
      }
      const em = this.em.fork();
      const failed = await em.findOneOrFail(Application, { id: applicationId });
      failed.status = ApplicationStatus.Error;
      failed.lastError = message;
      await em.flush();
      await this.runner.finish(operationId, message);
    }
  }

  private async deployedWork(type: LifecycleType, applicationId: string): Promise<LifecycleWork> {
    const built = await this.plans.build(applicationId);
    return {
      secrets: built.secrets,
      run: (base) => this.runner.run({ ...base, steps: this.steps.of(type), plan: built.plan }),
    };
  }

  /** An adopted container has no catalog app: its own steps, and a delete may leave it be. */
  private async adoptedWork(
    type: LifecycleType,
    applicationId: string,
    destroy: boolean,
  ): Promise<LifecycleWork> {
    const { plan } = await this.adoptedPlans.build(applicationId);
    return {
      secrets: [],
      run: (base) => this.runner.run({ ...base, steps: this.adoptedSteps.of(type, destroy), plan }),
    };
  }

  private async succeed(op: Operation, applicationId: string, state: DeployState): Promise<void> {
    const outcome = OUTCOME[op.type as LifecycleType];
    if (outcome === null) {
      // The container and its rules are gone: the VMID, ports and row (the operation's too) go with it.
      this.metrics.operationEnded(op, 'succeeded');
      await this.allocator.discard(applicationId);
      return;
    }
    const em = this.em.fork();
    const app = await em.findOneOrFail(Application, { id: applicationId });
    app.status = outcome;
    app.lastError = null;
    if (state.ipAddress) app.ipAddress = state.ipAddress;
    await em.flush();
    await this.runner.finish(op.id, null);
  }

  private logRaw(operationId: string, attempt: number, error: unknown, secrets: string[]): void {
    this.logger.warn(
      { operationId, attempt, failure: rawFailure(error, secrets) },
      'lifecycle step failed',
    );
  }
}
