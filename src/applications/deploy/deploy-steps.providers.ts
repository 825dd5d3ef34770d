import type { Provider } from '@nestjs/common';
import { ContainerCommands } from '../../proxmox/container/container-commands';
import { ForwardingRules } from '../../ports/forwarding-rules';
import { ContainerSteps } from './container.steps';
import { DeployTimings } from './deploy-timings';
import { DeploySteps } from './deploy.steps';
import { PortProbe, TcpPortProbe } from './port-probe';
import { StackSteps } from './stack.steps';

/**
 * What a module that runs deployments provides, next to a ProxmoxGateway and
 * a NodeShell (ProxmoxModule exports both). `DeploySteps` is the entry point.
 */
export const DEPLOY_STEP_PROVIDERS: Provider[] = [
  DeployTimings,
  { provide: PortProbe, useClass: TcpPortProbe },
  ContainerCommands,
  ForwardingRules,
  ContainerSteps,
  StackSteps,
  DeploySteps,
];
