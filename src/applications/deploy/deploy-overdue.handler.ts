import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { type Operation, OperationType } from '../../operations/operation.entity';
import {
  type OverdueOperationHandler,
  OverdueOperations,
} from '../../operations/overdue-operations';
import { StepRunner } from '../../operations/step-runner';
import type { OperationJobData } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { Application } from '../application.entity';
import { DeployCompensation } from './deploy-compensation';
import { DeployPlanBuilder } from './deploy-plan.builder';
import { DEPLOY_JOB } from './deploy.queue';

export const DEPLOY_ABANDONED = 'the deployment was interrupted and did not finish in time';

/**
 * Ends a deployment whose job was lost or failed outside the worker's
 * handler: it is compensated as after its last attempt.
 */
@Injectable()
export class DeployOverdueHandler implements OverdueOperationHandler, OnModuleInit {
  readonly types = [OperationType.Deploy];

  constructor(
    @InjectQueue(QueueName.Deploy) readonly queue: Queue<OperationJobData>,
    private readonly registry: OverdueOperations,
    private readonly config: AppConfig,
    private readonly em: EntityManager,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly compensation: DeployCompensation,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  jobName(): string {
    return DEPLOY_JOB;
  }

  deadlineMs(): number {
    return this.config.jobs.deployDeadlineMs;
  }

  async end(op: Operation): Promise<void> {
    const applicationId = op.application.id;
    const log = { operationId: op.id, applicationId, secrets: [] };
    await this.runner.log(log, null, LogLevel.Error, DEPLOY_ABANDONED);
    const app = await this.em.fork().findOneOrFail(Application, { id: applicationId });
    if (app.vmid === null) {
      // Its VMID and ports were already given back: nothing on Proxmox to undo.
      await this.compensation.markFailed(applicationId, op.id, DEPLOY_ABANDONED);
      return;
    }
    await this.compensation.compensate(
      await this.plans.build(applicationId),
      op.id,
      DEPLOY_ABANDONED,
    );
  }
}
