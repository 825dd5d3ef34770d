import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { Operation, OperationType } from '../../operations/operation.entity';
import { OverdueOperations } from '../../operations/overdue-operations';
import { StepFailure, StepRunner } from '../../operations/step-runner';
import { PortAllocation, PortState } from '../../ports/port-allocation.entity';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { type OperationJobData, processOperationJobs } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { applicationUrl } from '../deploy/application-url';
import { classifyFailure } from '../deploy/deploy-errors';
import type { DeployState } from '../deploy/deploy.steps';
import { describeFailure, rawFailure } from '../deploy/deploy-wording';
import { NodeAddress } from '../deploy/node-address';
import { AdoptCompensation } from './adopt-compensation';
import { ADOPT_JOB } from './adopt.queue';
import { AdoptedPlanBuilder, type BuiltAdoptedPlan } from './adopted-plan.builder';
import { AdoptedSteps } from './adopted.steps';

export const ADOPT_ABANDONED = 'the adoption was interrupted and did not finish in time';

/**
 * Runs adoptions with the step runner. The application shows `adopting`
 * until the container's state is captured and its ports forwarded (then
 * running or stopped, as the container is) or the last attempt failed
 * (error, rules removed, ports and VMID given back, container untouched).
 */
@Injectable()
export class AdoptProcessor implements OnModuleInit {
  constructor(
    @InjectPinoLogger(AdoptProcessor.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Lifecycle) private readonly queue: Queue<OperationJobData>,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: AdoptedPlanBuilder,
    private readonly steps: AdoptedSteps,
    private readonly compensation: AdoptCompensation,
    private readonly gateway: ProxmoxGateway,
    private readonly nodeAddress: NodeAddress,
    private readonly overdue: OverdueOperations,
  ) {}

  onModuleInit(): void {
    this.overdue.register({
      types: [OperationType.Adopt],
      queue: this.queue,
      jobName: () => ADOPT_JOB,
      deadlineMs: () => this.config.jobs.actionDeadlineMs,
      end: (op) => this.abandon(op),
    });
    processOperationJobs(
      this.queue,
      ADOPT_JOB,
      this.config.jobs.deployConcurrency,
      (operationId, failedAttempts) => this.handle(operationId, failedAttempts),
      this.logger,
    );
  }

  async handle(operationId: string, failedAttempts: number): Promise<void> {
    const start = await this.runner.beginAttempt(operationId, failedAttempts);
    if (!start) return;
    const { operation: op, attempt, last, line } = start;
    const applicationId = op.application.id;
    const built = await this.plans.build(applicationId);
    const log = { operationId, applicationId, secrets: [] };
    await this.runner.log(log, null, LogLevel.Info, `adopt: ${line}`);
    const app = await this.em.fork().findOneOrFail(Application, { id: applicationId });
    try {
      const state = await this.runner.run({
        ...log,
        steps: this.steps.adopt,
        plan: built.plan,
        state: app.ipAddress ? { ipAddress: app.ipAddress } : {},
        describe: describeFailure,
        persist: (s) => this.keepAddress(applicationId, s),
      });
      await this.succeed(built, state, operationId);
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeFailure(err);
      this.logger.warn(
        { operationId, attempt, failure: rawFailure(cause, []) },
        'adopt step failed',
      );
      if (!last && classifyFailure(cause) === 'retryable') {
        await this.runner.retrying(log, op.type, attempt);
        throw err;
      }
      await this.compensation.compensate(built.plan, operationId, message);
    }
  }

  /** The reconciler's end of an adoption whose job was lost past its deadline. */
  private async abandon(op: Operation): Promise<void> {
    const applicationId = op.application.id;
    await this.runner.log(
      { operationId: op.id, applicationId, secrets: [] },
      null,
      LogLevel.Error,
      ADOPT_ABANDONED,
    );
    const built = await this.plans.build(applicationId);
    await this.compensation.compensate(built.plan, op.id, ADOPT_ABANDONED);
  }

  /** Running or stopped as `status/current` says the container is now. */
  private async succeed(
    built: BuiltAdoptedPlan,
    state: DeployState,
    operationId: string,
  ): Promise<void> {
    const { plan } = built;
    const current = await this.gateway.containerStatus(plan.target.connection, {
      node: plan.target.node,
      vmid: plan.vmid,
    });
    const url =
      plan.ports.length > 0
        ? applicationUrl(await this.nodeAddress.of(built), plan.ports[0].publicPort)
        : null;
    const forwarded = plan.ports.length > 0 && state.ipAddress !== undefined;
    await this.em.fork().transactional(async (em) => {
      const app = await em.findOneOrFail(Application, { id: plan.applicationId });
      app.status =
        current.status === 'running' ? ApplicationStatus.Running : ApplicationStatus.Stopped;
      app.ipAddress = state.ipAddress ?? null;
      app.url = url;
      app.lastError = null;
      if (forwarded) {
        await em.nativeUpdate(
          PortAllocation,
          { application: plan.applicationId },
          { state: PortState.Forwarded },
        );
      }
    });
    await this.runner.finish(operationId, null);
    await this.runner.log(
      { operationId, applicationId: plan.applicationId, secrets: [] },
      null,
      LogLevel.Info,
      url ? `adopted; its URL is ${url}` : 'adopted',
    );
  }

  private async keepAddress(applicationId: string, state: DeployState): Promise<void> {
    if (!state.ipAddress) return;
    await this.em
      .fork()
      .nativeUpdate(Application, { id: applicationId }, { ipAddress: state.ipAddress });
  }
}
