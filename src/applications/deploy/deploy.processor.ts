import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Job, Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { Operation, OperationStatus } from '../../operations/operation.entity';
import { StepFailure, StepRunner } from '../../operations/step-runner';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { PortAllocation, PortState } from '../../ports/port-allocation.entity';
import { QueueName } from '../../queue/queue-names';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { classifyFailure } from './deploy-errors';
import { type BuiltPlan, DeployPlanBuilder } from './deploy-plan.builder';
import { DEPLOY_JOB, type DeployJobData } from './deploy.queue';
import { type DeployState, DeploySteps } from './deploy.steps';
import { describeFailure, rawFailure } from './deploy-wording';
import { applicationUrl } from './application-url';
import { NodeAddress } from './node-address';
import { DeployCompensation } from './deploy-compensation';

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
    @InjectQueue(QueueName.Deploy) private readonly queue: Queue<DeployJobData>,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly deploySteps: DeploySteps,
    private readonly compensation: DeployCompensation,
    private readonly allocator: ApplicationAllocator,
    private readonly gateway: ProxmoxGateway,
    private readonly nodeAddress: NodeAddress,
  ) {}

  onModuleInit(): void {
    // Registered here rather than with @Process: the concurrency comes from the configuration.
    this.queue
      .process(DEPLOY_JOB, this.config.jobs.deployConcurrency, (job: Job<DeployJobData>) =>
        this.handle(job.data.operationId, job.attemptsMade),
      )
      .catch((err: Error) => {
        this.logger.warn({ err: { message: err.message } }, 'the deploy worker stopped');
      });
  }

  /** One attempt. Throws only to have Bull retry it (with its jittered backoff). */
  async handle(operationId: string, failedAttempts: number): Promise<void> {
    const op = await this.em.fork().findOne(Operation, { id: operationId });
    // Discarded after an enqueue that timed out, or finished by an earlier run of this job.
    if (!op || op.status === OperationStatus.Succeeded || op.status === OperationStatus.Failed) {
      return;
    }
    const applicationId = op.application.id;
    const { attempt, last, line } = await this.runner.beginAttempt(operationId, failedAttempts);
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
        persist: (s) => this.keepAddress(applicationId, s),
      });
      await this.succeed(built, state, operationId);
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeFailure(err);
      this.logRaw(operationId, attempt, cause, built.secrets);
      const failureClass = classifyFailure(cause);
      // The guest on the old VMID is not ours: what follows (a retry or compensation) uses the new one.
      const vmid = failureClass === 'vmid_conflict' ? await this.reassignVmid(built) : null;
      if (!last && failureClass !== 'permanent') {
        await this.runner.log(log, null, LogLevel.Warn, `attempt ${attempt} failed; retrying`);
        throw err;
      }
      const plan = vmid === null ? built.plan : { ...built.plan, vmid };
      await this.compensation.compensate({ ...built, plan }, operationId, message);
    }
  }

  private async succeed(built: BuiltPlan, state: DeployState, operationId: string): Promise<void> {
    const { plan } = built;
    const url =
      plan.ports.length > 0
        ? applicationUrl(await this.nodeAddress.of(built), plan.ports[0].publicPort)
        : null;
    await this.em.fork().transactional(async (em) => {
      const app = await em.findOneOrFail(Application, { id: plan.applicationId });
      app.status = ApplicationStatus.Running;
      app.ipAddress = state.ipAddress ?? null;
      app.url = url;
      app.lastError = null;
      await em.nativeUpdate(
        PortAllocation,
        { application: plan.applicationId },
        { state: PortState.Forwarded },
      );
    });
    await this.runner.finish(operationId, null);
    await this.runner.log(
      { operationId, applicationId: plan.applicationId, secrets: built.secrets },
      null,
      LogLevel.Info,
      url ? `deployed; it answers at ${url}` : 'deployed',
    );
  }

  private async keepAddress(applicationId: string, state: DeployState): Promise<void> {
    if (!state.ipAddress) return;
    await this.em
      .fork()
      .nativeUpdate(Application, { id: applicationId }, { ipAddress: state.ipAddress });
  }

  /** The VMID holds a guest created outside Proximity since the pick: take another one. */
  private async reassignVmid(built: BuiltPlan): Promise<number> {
    const guests = await this.gateway.listClusterGuests(built.plan.target.connection);
    const vmid = await this.allocator.reassignVmid(
      built.plan.applicationId,
      guests.map((g) => g.vmid),
    );
    this.logger.warn(
      { applicationId: built.plan.applicationId, from: built.plan.vmid, to: vmid },
      'VMID taken by another guest; picked a new one',
    );
    return vmid;
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
