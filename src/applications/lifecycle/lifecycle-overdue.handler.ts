import { EntityManager } from '@mikro-orm/postgresql';
import { InjectQueue } from '@nestjs/bull';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bull';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../../config/app-config';
import { LogLevel } from '../../operations/deployment-log.entity';
import { type Operation, OperationType } from '../../operations/operation.entity';
import {
  type OverdueOperationHandler,
  OverdueOperations,
} from '../../operations/overdue-operations';
import { StepRunner } from '../../operations/step-runner';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import type { OperationJobData } from '../../queue/operation-jobs';
import { QueueName } from '../../queue/queue-names';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { LIFECYCLE_JOB } from './lifecycle.queue';

export const STATE_UNREADABLE = "the container's state could not be read from Proxmox";

/**
 * Ends a start, stop, restart or delete whose job was lost: the application
 * is left in the state its container really has, or `error` when Proxmox
 * cannot be read. Nothing is destroyed: only a container whose owner was
 * checked is ever removed.
 */
@Injectable()
export class LifecycleOverdueHandler implements OverdueOperationHandler, OnModuleInit {
  readonly types = [
    OperationType.Start,
    OperationType.Stop,
    OperationType.Restart,
    OperationType.Delete,
  ];

  constructor(
    @InjectPinoLogger(LifecycleOverdueHandler.name) private readonly logger: PinoLogger,
    @InjectQueue(QueueName.Lifecycle) readonly queue: Queue<OperationJobData>,
    private readonly registry: OverdueOperations,
    private readonly config: AppConfig,
    private readonly em: EntityManager,
    private readonly runner: StepRunner,
    private readonly gateway: ProxmoxGateway,
    private readonly hosts: HostsService,
  ) {}

  onModuleInit(): void {
    this.registry.register(this);
  }

  jobName(): string {
    return LIFECYCLE_JOB;
  }

  deadlineMs(): number {
    return this.config.jobs.actionDeadlineMs;
  }

  async end(op: Operation): Promise<void> {
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
