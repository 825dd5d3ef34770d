import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LogLevel } from '../../operations/deployment-log.entity';
import { StepRunner } from '../../operations/step-runner';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import type { BuiltPlan } from './deploy-plan.builder';
import { DeploySteps } from './deploy.steps';
import { describeFailure, rawFailure } from './deploy-wording';

/** Something more to undo after the deploy's own steps (a clone's temporary snapshot). */
export interface CompensationAction {
  name: string;
  run(): Promise<void>;
}

export const CLEANUP_FAILED =
  'cleaning up after the failure failed as well; the container may remain, so its VMID and ports stay reserved';

/**
 * Ends a deployment that will not succeed: removes what its operation
 * created (forwarding rules, container), gives the VMID and ports back only
 * when that worked, and shows `error` with our wording. The deploy worker
 * calls it after the last attempt, the reconciler for a deployment whose job
 * was lost.
 */
@Injectable()
export class DeployCompensation {
  constructor(
    @InjectPinoLogger(DeployCompensation.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly runner: StepRunner,
    private readonly deploySteps: DeploySteps,
    private readonly allocator: ApplicationAllocator,
  ) {}

  async compensate(
    built: BuiltPlan,
    operationId: string,
    message: string,
    extra: readonly CompensationAction[] = [],
  ): Promise<void> {
    const { plan } = built;
    const log = { operationId, applicationId: plan.applicationId, secrets: built.secrets };
    let cleaned = true;
    const steps = [
      ...this.deploySteps.compensation.map((step) => ({
        name: step.name,
        run: () => step.run(plan),
      })),
      ...extra,
    ];
    for (const step of steps) {
      try {
        await step.run();
        await this.runner.log(log, step.name, LogLevel.Info, `${step.name} done`);
      } catch (err) {
        cleaned = false;
        this.logger.warn(
          { operationId, attempt: null, failure: rawFailure(err, built.secrets) },
          'deploy step failed',
        );
        await this.runner.log(
          log,
          step.name,
          LogLevel.Error,
          `${step.name} failed: ${describeFailure(err)}`,
        );
      }
    }
    if (cleaned) await this.allocator.release(plan.applicationId);
    await this.markFailed(
      plan.applicationId,
      operationId,
      cleaned ? message : `${message}; ${CLEANUP_FAILED}`,
      true,
    );
  }

  /** `compensated`: what the operation made was undone (or tried to be) before. */
  async markFailed(
    applicationId: string,
    operationId: string,
    message: string,
    compensated = false,
  ): Promise<void> {
    const em = this.em.fork();
    const app = await em.findOneOrFail(Application, { id: applicationId });
    app.status = ApplicationStatus.Error;
    app.lastError = message;
    await em.flush();
    await this.runner.finish(operationId, message, compensated);
  }
}
