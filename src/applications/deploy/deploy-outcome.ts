import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LogLevel } from '../../operations/deployment-log.entity';
import { type NamedStep, StepFailure, StepRunner } from '../../operations/step-runner';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { PortAllocation, PortState } from '../../ports/port-allocation.entity';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { applicationUrl } from './application-url';
import type { BuiltPlan } from './deploy-plan.builder';
import { classifyFailure } from './deploy-errors';
import { describeFailure, rawFailure } from './deploy-wording';
import type { DeployState } from './deploy.steps';
import { NodeAddress } from './node-address';

/** A job that brings up a new container, as `DeployOutcome.attempt` runs it. */
export interface NewContainerJob<B extends BuiltPlan> {
  /** `deploy` or `clone`: names its log lines. */
  kind: string;
  /** What the person reads when the plan cannot be built: "the deployment", "the clone". */
  noun: string;
  /** The last log line's verb: "deployed", "cloned". */
  doneWord: string;
  steps: readonly NamedStep<B['plan'], DeployState>[];
  build(applicationId: string, operationId: string): Promise<B>;
  /** After the last attempt: undo what the operation made, give back, show `error`. */
  compensate(built: B, operationId: string, message: string): Promise<void>;
  /** `error` without compensation (nothing was made: the plan could not be built). */
  markFailed(applicationId: string, operationId: string, message: string): Promise<void>;
}

/**
 * What the jobs that bring up a new container (deploy, clone) do around their
 * steps: one attempt with its retry or compensation, the address kept for a
 * later attempt, a VMID another guest took replaced, and the success
 * recorded with the application's URL.
 */
@Injectable()
export class DeployOutcome {
  constructor(
    @InjectPinoLogger(DeployOutcome.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly runner: StepRunner,
    private readonly allocator: ApplicationAllocator,
    private readonly gateway: ProxmoxGateway,
    private readonly nodeAddress: NodeAddress,
  ) {}

  /**
   * One attempt: builds the plan from the rows and runs the job's steps,
   * resuming where the last attempt stopped. Throws only to have Bull retry
   * (with its jittered backoff); after the last attempt, or a failure no
   * retry can mend, the job compensates.
   */
  async attempt<B extends BuiltPlan>(
    job: NewContainerJob<B>,
    operationId: string,
    failedAttempts: number,
  ): Promise<void> {
    const start = await this.runner.beginAttempt(operationId, failedAttempts);
    if (!start) return;
    const { attempt, last, line } = start;
    const applicationId = start.operation.application.id;
    let built: B;
    try {
      built = await job.build(applicationId, operationId);
    } catch (err) {
      this.logger.error({ operationId, err }, `the ${job.kind} plan could not be built`);
      const message = `${job.noun} could not be prepared`;
      const log = { operationId, applicationId, secrets: [] };
      await this.runner.log(log, null, LogLevel.Error, message);
      await job.markFailed(applicationId, operationId, message);
      return;
    }
    const log = { operationId, applicationId, secrets: built.secrets };
    await this.runner.log(log, null, LogLevel.Info, line);
    try {
      const state = await this.runner.run<B['plan'], DeployState>({
        ...log,
        steps: job.steps,
        plan: built.plan,
        state: built.application.ipAddress ? { ipAddress: built.application.ipAddress } : {},
        describe: describeFailure,
        persist: (s) => this.keepAddress(applicationId, s),
      });
      await this.succeed(built, state, operationId, job.doneWord);
    } catch (err) {
      const cause = err instanceof StepFailure ? err.error : err;
      const message = err instanceof StepFailure ? err.message : describeFailure(err);
      this.logger.warn(
        { operationId, attempt, failure: rawFailure(cause, built.secrets) },
        `${job.kind} step failed`,
      );
      const failureClass = classifyFailure(cause);
      // The guest on the old VMID is not ours: what follows (a retry or compensation) uses the new one.
      const vmid = failureClass === 'vmid_conflict' ? await this.reassignVmid(built) : null;
      if (!last && failureClass !== 'permanent') {
        await this.runner.retrying(log, start.operation.type, attempt);
        throw err;
      }
      const plan = vmid === null ? built.plan : { ...built.plan, vmid };
      await job.compensate({ ...built, plan }, operationId, message);
    }
  }

  /** `running` with its address and URL, the ports forwarded, the operation succeeded. */
  async succeed(
    built: BuiltPlan,
    state: DeployState,
    operationId: string,
    done: string,
  ): Promise<void> {
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
      url ? `${done}; it answers at ${url}` : done,
    );
  }

  /** Keeps what wait_for_address found, for an attempt that resumes past it. */
  async keepAddress(applicationId: string, state: DeployState): Promise<void> {
    if (!state.ipAddress) return;
    await this.em
      .fork()
      .nativeUpdate(Application, { id: applicationId }, { ipAddress: state.ipAddress });
  }

  /** The VMID holds a guest created outside Proximity since the pick: take another one. */
  async reassignVmid(built: BuiltPlan): Promise<number> {
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
}
