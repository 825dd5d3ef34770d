import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { type CatalogApp, ENV_NAME_PATTERN } from '../../catalog/catalog-app';
import { CatalogService } from '../../catalog/catalog.service';
import { renderDeployment } from '../../catalog/compose-renderer';
import { generateSecret, generateSecrets } from '../../catalog/secret-generator';
import type { Principal } from '../../common/auth/principal';
import { DomainError, ErrorCode, type FieldError } from '../../common/errors/domain-error';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { Settings, SETTINGS_ROW_ID } from '../../settings/settings.entity';
import { ApplicationAllocator, type Resources } from '../allocation/application-allocator';
import { LiveNodes } from '../allocation/live-nodes';
import { placeApplication } from '../allocation/placement';
import type { DeployBody } from '../applications.dto';
import type { ApplicationView } from '../applications.service';
import { DeployQueue } from './deploy.queue';

/**
 * `POST /api/apps`: validates and defaults the request, places it on a node
 * from live data, allocates in one transaction, and enqueues the job after
 * the commit (a queue that does not take it undoes the allocation: 503).
 */
@Injectable()
export class DeployRequests {
  constructor(
    @InjectPinoLogger(DeployRequests.name) private readonly logger: PinoLogger,
    private readonly em: EntityManager,
    private readonly catalog: CatalogService,
    private readonly hosts: HostsService,
    private readonly gateway: ProxmoxGateway,
    private readonly liveNodes: LiveNodes,
    private readonly allocator: ApplicationAllocator,
    private readonly queue: DeployQueue,
  ) {}

  async deploy(body: DeployBody, principal: Principal): Promise<ApplicationView> {
    const app = this.catalog.find(body.catalogId);
    if (!app) throw DomainError.invalid('catalogId', 'catalogId does not name a catalog app');
    const settings = await this.em.fork().findOneOrFail(Settings, { id: SETTINGS_ROW_ID });
    const resources = resourcesFor(app, settings, body.resources ?? {});
    const given = body.environment ?? {};
    const generated = generateSecrets(app);
    checkEnvironmentKeys(given);
    // Throws the field errors (undeclared, required, too long) as the job would meet them.
    renderDeployment(app, given, generated);
    const { environment, secretEnvironment } = splitEnvironment(app, given, generated);

    const host = await this.hostOf(body.hostId);
    const node = placeApplication(await this.live(host), resources.memoryMb, body.node);
    const clusterVmids = (
      await this.upstream(host, () =>
        this.gateway.listClusterGuests(this.hosts.connectionFor(host)),
      )
    ).map((g) => g.vmid);

    const { application, operation } = await this.allocator.allocate({
      ownerId: principal.userId,
      actorId: principal.userId,
      hostId: host.id,
      node,
      catalogId: app.id,
      name: body.name ?? app.name,
      hostname: body.hostname,
      resources,
      environment,
      secretEnvironment,
      ports: app.ports,
      rootPassword: generateSecret('password'),
      clusterVmids,
    });
    try {
      await this.queue.enqueue(operation);
    } catch (err) {
      this.logger.warn(
        { applicationId: application.id, operationId: operation.id },
        'deploy job not enqueued; allocation undone',
      );
      await this.allocator.discard(application.id);
      throw err;
    }
    return { application, operation };
  }

  private async hostOf(hostId: string | undefined): Promise<ProxmoxHost> {
    const em = this.em.fork();
    const host = await em.findOne(ProxmoxHost, hostId ? { id: hostId } : { isDefault: true });
    if (host) return host;
    if (hostId) throw DomainError.invalid('hostId', 'hostId does not name a Proxmox host');
    throw DomainError.unavailable('no default Proxmox host is registered');
  }

  private live(host: ProxmoxHost) {
    return this.upstream(host, () => this.liveNodes.of(host));
  }

  /** A Proxmox read for placement; its failure in our words (502), the upstream text logged. */
  private async upstream<T>(host: ProxmoxHost, read: () => Promise<T>): Promise<T> {
    try {
      return await read();
    } catch (err) {
      throw new DomainError(ErrorCode.UpstreamFailed, this.hosts.reasonOf(err, host));
    }
  }
}

/** Requested or defaulted resources, between the catalog's minimum and the settings' maximum. */
export function resourcesFor(
  app: CatalogApp,
  settings: Settings,
  asked: { cores?: number; memoryMb?: number; diskGb?: number },
): Resources {
  const { defaults, limits } = settings;
  const bounds = {
    cores: { min: app.minCores, max: limits.maxCores, default: defaults.cores },
    memoryMb: { min: app.minMemoryMb, max: limits.maxMemoryMb, default: defaults.memoryMb },
    diskGb: { min: app.minDiskGb, max: limits.maxDiskGb, default: defaults.diskGb },
  };
  const problems: FieldError[] = [];
  const pick = (key: keyof typeof bounds): number => {
    const { min, max } = bounds[key];
    const value = asked[key] ?? Math.min(max, Math.max(min, bounds[key].default));
    if (value < min || value > max) {
      problems.push({ field: `resources.${key}`, message: `must lie between ${min} and ${max}` });
    }
    return value;
  };
  const resources = {
    cores: pick('cores'),
    memoryMb: pick('memoryMb'),
    diskGb: pick('diskGb'),
    swapMb: defaults.swapMb,
  };
  if (problems.length > 0) throw DomainError.invalidFields(problems);
  return resources;
}

function checkEnvironmentKeys(given: Record<string, unknown>): void {
  const problems = Object.keys(given)
    .filter((key) => !ENV_NAME_PATTERN.test(key))
    .map((key) => ({
      field: `environment.${key}`,
      message: 'must be a variable name of A-Z, 0-9 and _',
    }));
  if (problems.length > 0) throw DomainError.invalidFields(problems);
}

/** What the row keeps: plain values in the clear, secret and generated ones to be sealed. */
function splitEnvironment(
  app: CatalogApp,
  given: Readonly<Record<string, string>>,
  generated: Readonly<Record<string, string>>,
): { environment: Record<string, string>; secretEnvironment: Record<string, string> } {
  const environment: Record<string, string> = {};
  const secretEnvironment: Record<string, string> = {};
  for (const variable of app.env) {
    const value = Object.prototype.hasOwnProperty.call(given, variable.name)
      ? given[variable.name]
      : generated[variable.name];
    if (value === undefined) continue;
    if (variable.secret || variable.generate) secretEnvironment[variable.name] = value;
    else environment[variable.name] = value;
  }
  return { environment, secretEnvironment };
}
