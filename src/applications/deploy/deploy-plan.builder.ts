import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { CatalogService } from '../../catalog/catalog.service';
import { AppConfig } from '../../config/app-config';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ProxmoxHost } from '../../proxmox/hosts/proxmox-host.entity';
import { PortAllocation } from '../../ports/port-allocation.entity';
import { Application } from '../application.entity';
import type { DeployPlan } from './deploy.steps';

export interface BuiltPlan {
  plan: DeployPlan;
  application: Application;
  host: ProxmoxHost;
  /** Every secret value of the plan: no log line may contain one. */
  secrets: string[];
}

/** The application's stored catalog app is gone (removed from the catalog after the request). */
export class CatalogAppGone extends Error {
  constructor(catalogId: string) {
    super(`the catalog app '${catalogId}' is no longer in the catalog`);
    this.name = 'CatalogAppGone';
  }
}

/**
 * Builds a deployment's plan from the rows, for one attempt: the sealed root
 * password and secret variables are opened here, in the worker, and live only
 * as long as the attempt (job data holds ids only).
 */
@Injectable()
export class DeployPlanBuilder {
  constructor(
    private readonly em: EntityManager,
    private readonly hosts: HostsService,
    private readonly catalog: CatalogService,
    private readonly config: AppConfig,
  ) {}

  async build(applicationId: string): Promise<BuiltPlan> {
    const em = this.em.fork();
    const application = await em.findOneOrFail(Application, { id: applicationId });
    const host = await em.findOneOrFail(ProxmoxHost, { id: application.host.id });
    const ports = await em.find(
      PortAllocation,
      { application: applicationId },
      { orderBy: { port: 'asc', protocol: 'asc' } },
    );
    if (application.catalogId === null) {
      // Adopted containers run on their own steps (see adopt/), never a deploy plan.
      throw new Error('an adopted application has no deploy plan');
    }
    const app = this.catalog.find(application.catalogId);
    if (!app) throw new CatalogAppGone(application.catalogId);
    if (application.vmid === null || application.rootPassword === null) {
      // Allocation always sets both; only a released (finished) deployment lacks them.
      throw new Error('the application holds no VMID or root password to deploy with');
    }
    const keyring = this.config.keyring;
    const rootPassword = keyring.decrypt(application.rootPassword);
    const sealed = application.secretEnvironment;
    const secretValues = sealed
      ? (JSON.parse(keyring.decrypt(sealed)) as Record<string, string>)
      : {};
    const generatedNames = new Set(app.env.filter((v) => v.generate).map((v) => v.name));
    const generated: Record<string, string> = {};
    const environment: Record<string, string> = { ...application.environment };
    for (const [name, value] of Object.entries(secretValues)) {
      if (generatedNames.has(name)) generated[name] = value;
      else environment[name] = value;
    }
    // Ports are stored in public-port order; the plan keeps the catalog's order (the first is the URL's).
    const byName = new Map(ports.map((p) => [p.name, p]));
    const plan: DeployPlan = {
      target: {
        connection: this.hosts.connectionFor(host),
        node: application.node,
        shell: this.hosts.shellTargetFor(host, application.node),
      },
      applicationId,
      vmid: application.vmid,
      hostname: application.hostname,
      container: {
        template: host.template,
        storage: host.storage,
        bridge: host.bridge,
        diskGb: application.diskGb,
        cores: application.cores,
        memoryMb: application.memoryMb,
        swapMb: application.swapMb,
      },
      rootPassword,
      app,
      environment,
      generated,
      ports: app.ports.flatMap((p) => {
        const held = byName.get(p.name);
        return held
          ? [{ publicPort: held.port, containerPort: held.containerPort, protocol: held.protocol }]
          : [];
      }),
    };
    return {
      plan,
      application,
      host,
      secrets: [rootPassword, ...Object.values(secretValues)],
    };
  }
}
