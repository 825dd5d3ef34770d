import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { Application } from '../applications/application.entity';
import { ApplicationStatus } from '../applications/application-status';
import { DeployCompensation } from '../applications/deploy/deploy-compensation';
import { DeployPlanBuilder } from '../applications/deploy/deploy-plan.builder';
import { AppConfig } from '../config/app-config';
import { LogLevel } from '../operations/deployment-log.entity';
import {
  ACTIVE_OPERATION_STATUSES,
  Operation,
  OperationType,
} from '../operations/operation.entity';
import { StepRunner } from '../operations/step-runner';
import { ProxmoxGateway } from '../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../proxmox/hosts/proxmox-host.entity';
import { QueueName } from '../queue/queue-names';

export const DEPLOY_ABANDONED = 'the deployment was interrupted and did not finish in time';
export const STATE_UNREADABLE = "the container's state could not be read from Proxmox";

const ACTION_TYPES = [
  OperationType.Start,
  OperationType.Stop,
  OperationType.Restart,
  OperationType.Delete,
];

/** Bull still holds the job in one of these: its worker (or the stalled check) will finish it. */
const OWNED_BY_QUEUE: readonly string[] = ['waiting', 'active', 'delayed', 'paused'];

// Enough for one tick; what is left waits for the next.
const BATCH = 50;

export interface ReconcileResult {
  ended: number;
}

/**
 * Ends operations that outlived their deadline without a job to finish them
 * (the job failed outside our handler, such as a worker that died twice in
 * it, or was lost): a deployment is compensated as after its last attempt;
 * a lifecycle action leaves the application in the state its container
 * really has, or `error` when Proxmox cannot be read. Nothing is destroyed
 * then: only a container whose owner was checked is ever removed.
 */
@Injectable()
export class OperationReconciler {
  constructor(
    @InjectPinoLogger(OperationReconciler.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly config: AppConfig,
    @InjectQueue(QueueName.Deploy) private readonly deployQueue: Queue,
    @InjectQueue(QueueName.Lifecycle) private readonly lifecycleQueue: Queue,
    private readonly runner: StepRunner,
    private readonly plans: DeployPlanBuilder,
    private readonly compensation: DeployCompensation,
    private readonly gateway: ProxmoxGateway,
    private readonly hosts: HostsService,
  ) {}

  async reconcile(now: Date = new Date()): Promise<ReconcileResult> {
    const { deployDeadlineMs, actionDeadlineMs } = this.config.jobs;
    const overdue = await this.em.fork().find(
      Operation,
      {
        status: { $in: [...ACTIVE_OPERATION_STATUSES] },
        $or: [
          {
            type: OperationType.Deploy,
            createdAt: { $lt: new Date(now.getTime() - deployDeadlineMs) },
          },
          {
            type: { $in: ACTION_TYPES },
            createdAt: { $lt: new Date(now.getTime() - actionDeadlineMs) },
          },
        ],
      },
      { orderBy: { createdAt: 'asc' }, limit: BATCH },
    );
    let ended = 0;
    for (const op of overdue) {
      try {
        if (await this.queueStillOwns(op)) continue;
        this.logger.warn(
          { operationId: op.id, type: op.type, status: op.status, step: op.step },
          'ending an operation past its deadline without a job',
        );
        if (op.type === OperationType.Deploy) await this.endDeploy(op);
        else await this.endAction(op);
        ended += 1;
      } catch (err) {
        // The next tick tries again; one bad row must not hold up the others.
        this.logger.error({ operationId: op.id, err }, 'could not end an overdue operation');
      }
    }
    return { ended };
  }

  private async queueStillOwns(op: Operation): Promise<boolean> {
    const queue = op.type === OperationType.Deploy ? this.deployQueue : this.lifecycleQueue;
    const job = await queue.getJob(op.id);
    if (!job) return false;
    return OWNED_BY_QUEUE.includes(await job.getState());
  }

  private async endDeploy(op: Operation): Promise<void> {
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

  private async endAction(op: Operation): Promise<void> {
    const applicationId = op.application.id;
    const message = `the ${op.type} was interrupted and did not finish in time`;
    const em = this.em.fork();
    const app = await em.findOneOrFail(Application, { id: applicationId });
    const status = await this.containerState(app);
    const lastError =
      status === ApplicationStatus.Error ? `${message}; ${STATE_UNREADABLE}` : message;
    await this.runner.log(
      { operationId: op.id, applicationId, secrets: [] },
      null,
      LogLevel.Error,
      lastError,
    );
    app.status = status;
    app.lastError = lastError;
    await em.flush();
    await this.runner.finish(op.id, lastError);
  }

  /** The container's own state from status/current; error when it cannot be read or is gone. */
  private async containerState(app: Application): Promise<ApplicationStatus> {
    if (app.vmid === null) return ApplicationStatus.Error;
    try {
      const host = await this.em.fork().findOneOrFail(ProxmoxHost, { id: app.host.id });
      const current = await this.gateway.containerStatus(this.hosts.connectionFor(host), {
        node: app.node,
        vmid: app.vmid,
      });
      if (current.status === 'running') return ApplicationStatus.Running;
      if (current.status === 'stopped') return ApplicationStatus.Stopped;
      return ApplicationStatus.Error;
    } catch (err) {
      this.logger.warn(
        { applicationId: app.id, err: { message: err instanceof Error ? err.message : 'unknown' } },
        'container state unreadable',
      );
      return ApplicationStatus.Error;
    }
  }
}
