import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { type OperationJobData, processOperationJobs } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { DeployPlanBuilder } from './deploy-plan.builder';
import { DEPLOY_JOB } from './deploy.queue';
import { DeploySteps } from './deploy.steps';
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
  handle(operationId: string, failedAttempts: number): Promise<void> {
    return this.outcome.attempt(
      {
        kind: 'deploy',
        noun: 'the deployment',
        doneWord: 'deployed',
        steps: this.deploySteps.steps,
        build: (applicationId) => this.plans.build(applicationId),
        compensate: (built, operationId, message) =>
          this.compensation.compensate(built, operationId, message),
        markFailed: (applicationId, id, message) =>
          this.compensation.markFailed(applicationId, id, message),
      },
      operationId,
      failedAttempts,
    );
  }
}
