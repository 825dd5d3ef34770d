import { pollUntil } from '../../common/time/poll';
import { Injectable } from '@nestjs/common';
import type { CatalogApp } from '../../catalog/catalog-app';
import { renderDeployment } from '../../catalog/compose-renderer';
import { ContainerCommands, type ComposeProject } from '../../proxmox/container/container-commands';
import type { ContainerInput } from './container.steps';
import { DeployErrorCode, DeployStepError } from './deploy-errors';
import { DeployTimings } from './deploy-timings';
import { PortProbe } from './port-probe';

/** Where a deployment's files live in its container. */
export const APP_DIRECTORY = '/opt/proximity';

export interface StackInput extends ContainerInput {
  app: CatalogApp;
}

export interface WriteFilesInput extends StackInput {
  /** Values from the deploy request, secret ones included. */
  environment: Readonly<Record<string, string>>;
  /** Values generated for the app's `generate` variables. */
  generated: Readonly<Record<string, string>>;
}

export interface VerifyInput extends StackInput {
  ipAddress: string;
}

export function composeProject(app: CatalogApp): ComposeProject {
  return { directory: APP_DIRECTORY, name: app.id };
}

/** Every value that must not show in a command line, a log or an error. */
export function secretValues(input: WriteFilesInput): string[] {
  const secret = new Set(input.app.env.filter((v) => v.secret).map((v) => v.name));
  const values = Object.entries(input.environment)
    .filter(([name]) => secret.has(name))
    .map(([, value]) => value);
  return [...values, ...Object.values(input.generated)].filter((v) => v !== '');
}

/** The application inside its container: Docker, the compose files, the stack, the check. */
@Injectable()
export class StackSteps {
  constructor(
    private readonly commands: ContainerCommands,
    private readonly probe: PortProbe,
    private readonly timings: DeployTimings,
  ) {}

  async installDocker(input: ContainerInput): Promise<{ installed: boolean }> {
    return { installed: await this.commands.installDocker(input.target.shell, input.vmid) };
  }

  /** `compose.yaml` and `.env` rendered by the catalog, piped over stdin (they carry secrets). */
  async writeFiles(input: WriteFilesInput): Promise<{ directory: string }> {
    const files = renderDeployment(input.app, input.environment, input.generated);
    const secrets = secretValues(input);
    const { shell } = input.target;
    await this.commands.writeFile(
      shell,
      input.vmid,
      `${APP_DIRECTORY}/compose.yaml`,
      files.composeYaml,
      secrets,
    );
    await this.commands.writeFile(
      shell,
      input.vmid,
      `${APP_DIRECTORY}/.env`,
      files.envFile,
      secrets,
    );
    return { directory: APP_DIRECTORY };
  }

  async composeUp(input: StackInput): Promise<Record<string, never>> {
    await this.commands.composeUp(input.target.shell, input.vmid, composeProject(input.app));
    return {};
  }

  /**
   * Every compose service runs and every published TCP port answers on the
   * container's address, within the deadline. UDP ports cannot be checked
   * without speaking their protocol, and are not.
   */
  async verify(input: VerifyInput): Promise<{ services: string[]; ports: number[] }> {
    const expected = Object.keys(input.app.compose.services).sort();
    const ports = input.app.ports.filter((p) => p.protocol === 'tcp').map((p) => p.containerPort);
    let down: string[] = [];
    let silent: number[] = [];
    return pollUntil(
      async () => {
        const states = await this.commands.composeServices(
          input.target.shell,
          input.vmid,
          composeProject(input.app),
        );
        down = expected.filter(
          (name) => !states.some((s) => s.service === name && s.state === 'running'),
        );
        silent = [];
        if (down.length > 0) return null;
        for (const port of ports) {
          const ok = await this.probe.answers(input.ipAddress, port, this.timings.connectTimeoutMs);
          if (!ok) silent.push(port);
        }
        return silent.length === 0 ? { services: expected, ports } : null;
      },
      { deadlineMs: this.timings.verifyDeadlineMs, maxIntervalMs: this.timings.pollMs },
      () =>
        down.length > 0
          ? new DeployStepError(
              DeployErrorCode.ServicesDown,
              `services not running: ${down.join(', ')}`,
            )
          : new DeployStepError(
              DeployErrorCode.PortsSilent,
              `ports not answering on the container: ${silent.join(', ')}`,
            ),
    );
  }
}
