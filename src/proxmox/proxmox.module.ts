import { Module } from '@nestjs/common';
import { ProxmoxApiGateway } from './gateway/proxmox-api.gateway';
import { ProxmoxGateway } from './gateway/proxmox-gateway';
import { HostCredentials } from './hosts/host-credentials';
import { HostTester } from './hosts/host-tester';
import { HostsController } from './hosts/hosts.controller';
import { HostsService } from './hosts/hosts.service';
import { NodesController } from './hosts/nodes.controller';
import { ShellModule } from './shell/shell.module';

@Module({
  imports: [ShellModule],
  controllers: [HostsController, NodesController],
  providers: [
    HostsService,
    HostCredentials,
    HostTester,
    { provide: ProxmoxGateway, useClass: ProxmoxApiGateway },
  ],
  exports: [HostsService, ProxmoxGateway, ShellModule],
})
export class ProxmoxModule {}
