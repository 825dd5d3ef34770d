import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { StepFailure, StepRunner } from '../../operations/step-runner';
import { type OperationJobData, processOperationJobs } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { classifyFailure } from './deploy-errors';
import { type BuiltPlan, DeployPlanBuilder } from './deploy-plan.builder';
import { DEPLOY_JOB } from './deploy.queue';
import { type DeployState, DeploySteps } from './deploy.steps';
import { describeFailure, rawFailure } from './deploy-wording';
import { DeployCompensation } from './deploy-compensation';
import { DeployOutcome } from './deploy-outcome';

/**
 * Runs deploy jobs: each attempt builds its plan from the rows and runs the
 * named steps through the step runner, resuming where the last attempt
 * stopped. The application stays `deploying` until the last attempt fails;
 * then compensation removes what this operation created and gives its VMID
 * and ports back, and the application shows `error` with our wording.
 */
@Injectable()
export class DeployProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(DeployProcessor.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Deploy) private readonly queue: Queue<OperationJobData>,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly deploySteps: DeploySteps,
    private readonly compensation: DeployCompensation,
    private readonly outcome: DeployOutcome,
  ) {}

  onModuleInit(): void {
    // Registered here rather than with @Process: the concurrency comes from the configuration.
    processOperationJobs(
      this.queue,
      DEPLOY_JOB,
      this.config.jobs.deployConcurrency,
      (operationId, failedAttempts) => this.handle(operationId, failedAttempts),
      this.logger,
    );
  }

  /** One attempt. Throws only to have Bull retry it (with its jittered backoff). */
  async handle(operationId: string, failedAttempts: number): Promise<void> {
    const start = await this.runner.beginAttempt(operationId, failedAttempts);
    if (!start) return;
    const { operation: op, attempt, last, line } = start;
    const applicationId = op.application.id;
    let built: BuiltPlan;
    try {
      built = await this.plans.build(applicationId);
    } catch (err) {
      this.logger.error({ operationId, err }, 'the deploy plan could not be built');
      const message = 'the deployment could not be prepared';
      await this.runner.log(
        { operationId, applicationId, secrets: [] },
        null,
        LogLevel.Error,
        message,
      );
      await this.compensation.markFailed(applicationId, operationId, message);
      return;
    }
    const log = { operationId, applicationId, secrets: built.secrets };
    await this.runner.log(log, null, LogLevel.Info, line);
    try {
      const state = await this.runner.run<typeof built.plan, DeployState>({
        ...log,
        steps: this.deploySteps.steps,
        plan: built.plan,
        state: built.application.ipAddress ? { ipAddress: built.application.ipAddress } : {},
        describe: describeFailure,
        persist: (s) => this.outcome.keepAddress(applicationId, s),
      });
      await this.outcome.succeed(built, state, operationId, 'deployed');
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeFailure(err);
      this.logRaw(operationId, attempt, cause, built.secrets);
      const failureClass = classifyFailure(cause);
      // The guest on the old VMID is not ours: what follows (a retry or compensation) uses the new one.
      const vmid = failureClass === 'vmid_conflict' ? await this.outcome.reassignVmid(built) : null;
      if (!last && failureClass !== 'permanent') {
        await this.runner.log(log, null, LogLevel.Warn, `attempt ${attempt} failed; retrying`);
        throw err;
      }
      const plan = vmid === null ? built.plan : { ...built.plan, vmid };
      await this.compensation.compensate({ ...built, plan }, operationId, message);
    }
  }

  private logRaw(
    operationId: string,
    attempt: number | null,
    error: unknown,
    secrets: readonly string[],
  ): void {
    this.logger.warn(
      { operationId, attempt, failure: rawFailure(error, secrets) },
      'deploy step failed',
    );
  }
}
