import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { LogLevel } from '../../operations/deployment-log.entity';
import { StepRunner } from '../../operations/step-runner';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { PortAllocation, PortState } from '../../ports/port-allocation.entity';
import { ApplicationAllocator } from '../allocation/application-allocator';
import { Application } from '../application.entity';
import { ApplicationStatus } from '../application-status';
import { applicationUrl } from './application-url';
import type { BuiltPlan } from './deploy-plan.builder';
import type { DeployState } from './deploy.steps';
import { NodeAddress } from './node-address';

/**
 * What the jobs that bring up a new container (deploy, clone) do around their
 * steps: keep the address for a later attempt, replace a VMID another guest
 * took, and record the success with the application's URL.
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
