import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import type { Principal } from '../../common/auth/principal';
import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import type { ContainerStatus } from '../../proxmox/gateway/proxmox-gateway';
import { ProxmoxGateway } from '../../proxmox/gateway/proxmox-gateway';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { HostsService } from '../../proxmox/hosts/hosts.service';
import { ApplicationRepository } from '../application.repository';
import type { ApplicationMetricsDto } from './application-metrics.dto';

export const NO_CONTAINER = 'the application has no container to measure';
export const CONTAINER_NOT_FOUND = 'the application container does not exist on its node';

/**
 * Live figures of an application's container. Read from the node at each
 * call (never cached, never from the lagging cluster view), so a failing
 * Proxmox is the caller's 502, worded by us.
 */
@Injectable()
export class ApplicationMetricsService {
  constructor(
    @InjectPinoLogger(ApplicationMetricsService.name) private readonly logger: PinoLogger,
    private readonly applications: ApplicationRepository,
    private readonly hosts: HostsService,
    private readonly gateway: ProxmoxGateway,
  ) {}

  async read(id: string, principal: Principal): Promise<ApplicationMetricsDto> {
    const application = await this.applications.findOwned(id, principal);
    // A deploy that finally failed gave its VMID back: there is nothing left to ask about.
    if (application.vmid === null) throw DomainError.conflict(NO_CONTAINER);
    const host = await application.host.loadOrFail();
    let status: ContainerStatus;
    try {
      status = await this.gateway.containerStatus(this.hosts.connectionFor(host), {
        node: application.node,
        vmid: application.vmid,
      });
    } catch (err) {
      // A credential that cannot be decrypted is already worded for the caller.
      if (err instanceof DomainError) throw err;
      // Until the deploy's create step ran (or after the container was removed behind our back).
      if (err instanceof ProxmoxError && err.kind === ProxmoxErrorKind.NotFound) {
        throw DomainError.conflict(CONTAINER_NOT_FOUND);
      }
      throw new DomainError(ErrorCode.UpstreamFailed, this.reasonOf(err, id));
    }
    return {
      status: status.status,
      cpu: status.cpu,
      memoryUsed: status.memoryUsed,
      memoryTotal: status.memoryTotal,
      diskUsed: status.diskUsed,
      diskTotal: status.diskTotal,
      uptime: status.uptimeSeconds,
      netIn: status.netIn,
      netOut: status.netOut,
    };
  }

  /** Our wording for the caller; Proxmox's own text goes to the log only. */
  private reasonOf(err: unknown, applicationId: string): string {
    if (err instanceof ProxmoxError) {
      this.logger.warn(
        { applicationId, kind: err.kind, upstream: err.upstream },
        'reading container metrics failed',
      );
      return `Metrics unavailable: ${err.message}`;
    }
    this.logger.error({ applicationId, err }, 'reading container metrics failed unexpectedly');
    return 'Metrics unavailable: unexpected error while contacting Proxmox';
  }
}
