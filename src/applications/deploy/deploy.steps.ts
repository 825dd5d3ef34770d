import { Injectable } from '@nestjs/common';
import type { CatalogApp, Protocol } from '../../catalog/catalog-app';
import { ForwardingRules } from '../../ports/forwarding-rules';
import { ContainerSteps, type DeployTarget } from './container.steps';
import { DeployErrorCode, DeployStepError } from './deploy-errors';
import { StackSteps } from './stack.steps';

/** The deploy job's steps, in order; the operation records the last one done. */
export const DEPLOY_STEP_NAMES = [
  'create_container',
  'start_container',
  'wait_for_address',
  'install_docker',
  'write_files',
  'compose_up',
  'verify',
  'forward_ports',
] as const;
export type DeployStepName = (typeof DEPLOY_STEP_NAMES)[number];

/** What compensation undoes after the last attempt failed, in order. */
export const COMPENSATION_STEP_NAMES = ['remove_forwarding', 'destroy_container'] as const;
export type CompensationStepName = (typeof COMPENSATION_STEP_NAMES)[number];

export interface PortMapping {
  publicPort: number;
  containerPort: number;
  protocol: Protocol;
}

/**
 * Everything a deployment needs, built by the runner for each attempt from
 * the application row (secrets decrypted then, never stored in job data).
 */
export interface DeployPlan {
  target: DeployTarget;
  applicationId: string;
  vmid: number;
  hostname: string;
  container: {
    template: string;
    storage: string;
    bridge: string;
    diskGb: number;
    cores: number;
    memoryMb: number;
    swapMb: number;
  };
  rootPassword: string;
  app: CatalogApp;
  environment: Readonly<Record<string, string>>;
  generated: Readonly<Record<string, string>>;
  ports: readonly PortMapping[];
}

/** What steps hand on to later ones: plain JSON, no secret, for the runner to persist. */
export interface DeployState {
  ipAddress?: string;
}

export interface DeployStep {
  name: DeployStepName;
  run(plan: DeployPlan, state: DeployState): Promise<DeployState>;
}

export interface CompensationStep {
  name: CompensationStepName;
  run(plan: DeployPlan): Promise<void>;
}

function addressOf(state: DeployState): string {
  if (!state.ipAddress) {
    // The runner resumed past wait_for_address without its result: a bug, not a Proxmox failure.
    throw new DeployStepError(DeployErrorCode.NoAddress, 'the container address is not known');
  }
  return state.ipAddress;
}

/** The named steps over the step services; each is idempotent, so a retry resumes safely. */
@Injectable()
export class DeploySteps {
  readonly steps: readonly DeployStep[];
  readonly compensation: readonly CompensationStep[];

  constructor(container: ContainerSteps, stack: StackSteps, forwarding: ForwardingRules) {
    const steps: Record<DeployStepName, DeployStep['run']> = {
      create_container: async (plan, state) => {
        await container.createContainer({ ...plan, ...plan.container });
        return state;
      },
      start_container: async (plan, state) => {
        await container.startContainer(plan);
        return state;
      },
      wait_for_address: async (plan, state) => ({
        ...state,
        ...(await container.waitForAddress(plan)),
      }),
      install_docker: async (plan, state) => {
        await stack.installDocker(plan);
        return state;
      },
      write_files: async (plan, state) => {
        await stack.writeFiles(plan);
        return state;
      },
      compose_up: async (plan, state) => {
        await stack.composeUp(plan);
        return state;
      },
      verify: async (plan, state) => {
        await stack.verify({ ...plan, ipAddress: addressOf(state) });
        return state;
      },
      forward_ports: async (plan, state) => {
        const ipAddress = addressOf(state);
        await forwarding.apply(
          plan.target.shell,
          plan.applicationId,
          plan.ports.map((p) => ({
            publicPort: p.publicPort,
            protocol: p.protocol,
            targetAddress: ipAddress,
            targetPort: p.containerPort,
          })),
        );
        return state;
      },
    };
    this.steps = DEPLOY_STEP_NAMES.map((name) => ({ name, run: steps[name] }));
    const undo: Record<CompensationStepName, CompensationStep['run']> = {
      remove_forwarding: async (plan) => {
        await forwarding.remove(plan.target.shell, plan.applicationId);
      },
      destroy_container: async (plan) => {
        await container.destroyContainer(plan);
      },
    };
    this.compensation = COMPENSATION_STEP_NAMES.map((name) => ({ name, run: undo[name] }));
  }
}
