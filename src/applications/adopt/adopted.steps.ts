import { pollUntil } from '../../common/time/poll';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { OperationType } from '../../operations/operation.entity';
import type { NamedStep } from '../../operations/step-runner';
import { ForwardingRules } from '../../ports/forwarding-rules';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { Application } from '../application.entity';
import { ContainerSteps } from '../deploy/container.steps';
import { DeployErrorCode, DeployStepError } from '../deploy/deploy-errors';
import { DeployTimings } from '../deploy/deploy-timings';
import type { DeployState } from '../deploy/deploy.steps';
import { PortProbe } from '../deploy/port-probe';
import type { LifecycleType } from '../lifecycle/lifecycle.steps';
import type { AdoptedPlan } from './adopted-plan.builder';
import { captureConfig, hostnameOf } from './container-config';

export type AdoptedStep = NamedStep<AdoptedPlan, DeployState>;

/**
 * The steps of an adopted container: its adoption (capture, address, forwarding)
 * and its lifecycle. None changes the container's config; only a delete asked
 * with `destroy` removes it, and only while its hostname is the one adopted.
 */
@Injectable()
export class AdoptedSteps {
  readonly adopt: readonly AdoptedStep[];
  private readonly lifecycle: Record<LifecycleType, readonly AdoptedStep[]>;
  private readonly destroy: readonly AdoptedStep[];

  constructor(
    private readonly em: EntityManager,
    private readonly gateway: ProxmoxGateway,
    private readonly container: ContainerSteps,
    private readonly forwarding: ForwardingRules,
    private readonly probe: PortProbe,
    private readonly timings: DeployTimings,
  ) {
    const step = (name: string, run: AdoptedStep['run']): AdoptedStep => ({ name, run });
    const capture = step('capture', (plan, state) => this.capture(plan, state));
    const waitForAddress = step('wait_for_address', (plan, state) =>
      this.waitForAddress(plan, state),
    );
    const verifyPorts = step('verify_ports', async (plan, state) => {
      await this.verifyPorts(plan, state);
      return state;
    });
    const forwardPorts = step('forward_ports', async (plan, state) => {
      await this.forwardPorts(plan, state);
      return state;
    });
    const startContainer = step('start_container', async (plan, state) => {
      await this.container.startContainer(plan);
      return state;
    });
    const stopContainer = step('stop_container', async (plan, state) => {
      await this.container.stopContainer(plan);
      return state;
    });
    const removeForwarding = step('remove_forwarding', async (plan, state) => {
      await this.forwarding.remove(plan.target.shell, plan.applicationId);
      return state;
    });
    const destroyContainer = step('destroy_container', async (plan, state) => {
      // Never tagged as ours: recognised by the hostname it had when adopted.
      await this.container.destroyContainer(
        plan,
        (config) => hostnameOf(config, plan.vmid) === plan.hostname,
      );
      return state;
    });
    const start = [startContainer, waitForAddress, verifyPorts, forwardPorts];
    this.adopt = [capture, waitForAddress, forwardPorts];
    this.lifecycle = {
      [OperationType.Start]: start,
      [OperationType.Stop]: [stopContainer],
      [OperationType.Restart]: [stopContainer, ...start],
      // Unmanage: the container and its state stay as they are.
      [OperationType.Delete]: [removeForwarding],
    };
    this.destroy = [removeForwarding, destroyContainer];
  }

  /** The steps of a lifecycle operation; a delete with `destroy` removes the container too. */
  of(type: LifecycleType, destroy: boolean): readonly AdoptedStep[] {
    return type === OperationType.Delete && destroy ? this.destroy : this.lifecycle[type];
  }

  /** Re-reads the container's resources (they may have changed since the request). */
  private async capture(plan: AdoptedPlan, state: DeployState): Promise<DeployState> {
    const ref = { node: plan.target.node, vmid: plan.vmid };
    const config = await this.gateway.containerConfig(plan.target.connection, ref);
    const status = await this.gateway.containerStatus(plan.target.connection, ref);
    const captured = captureConfig(config, plan.vmid, status.cpus);
    if (captured) {
      const { cores, memoryMb, swapMb, diskGb } = captured;
      await this.em
        .fork()
        .nativeUpdate(Application, { id: plan.applicationId }, { cores, memoryMb, swapMb, diskGb });
    }
    return state;
  }

  /** Only a running container with exposed ports needs its address. */
  private async waitForAddress(plan: AdoptedPlan, state: DeployState): Promise<DeployState> {
    if (plan.ports.length === 0) return state;
    const ref = { node: plan.target.node, vmid: plan.vmid };
    const { status } = await this.gateway.containerStatus(plan.target.connection, ref);
    if (status !== 'running') return {};
    return { ...state, ...(await this.container.waitForAddress(plan)) };
  }

  /** Every exposed TCP port answers on the container, within the deadline. */
  private async verifyPorts(plan: AdoptedPlan, state: DeployState): Promise<void> {
    if (plan.ports.length === 0 || !state.ipAddress) return;
    const address = state.ipAddress;
    let silent: number[] = [];
    await pollUntil(
      async () => {
        silent = [];
        for (const port of plan.ports) {
          const ok = await this.probe.answers(
            address,
            port.containerPort,
            this.timings.connectTimeoutMs,
          );
          if (!ok) silent.push(port.containerPort);
        }
        return silent.length === 0 ? true : null;
      },
      { deadlineMs: this.timings.verifyDeadlineMs, maxIntervalMs: this.timings.pollMs },
      () =>
        new DeployStepError(
          DeployErrorCode.PortsSilent,
          `ports not answering on the container: ${silent.join(', ')}`,
        ),
    );
  }

  /** A stopped container has no address: its rules come with its next start. */
  private async forwardPorts(plan: AdoptedPlan, state: DeployState): Promise<void> {
    if (plan.ports.length === 0 || !state.ipAddress) return;
    const targetAddress = state.ipAddress;
    await this.forwarding.apply(
      plan.target.shell,
      plan.applicationId,
      plan.ports.map((p) => ({
        publicPort: p.publicPort,
        protocol: p.protocol,
        targetAddress,
        targetPort: p.containerPort,
      })),
    );
  }
}
