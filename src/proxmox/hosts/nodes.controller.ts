import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated } from '../../common/auth/access.decorators';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { mapPage, type Page } from '../../common/pagination/pagination';
import { NodeDto, NodePage, NodesQuery } from './hosts.dto';
import { HostsService } from './hosts.service';

@ApiTags('proxmox')
@Controller('api/proxmox/nodes')
@Authenticated()
export class NodesController {
  constructor(private readonly hosts: HostsService) {}

  @Get()
  @ApiOperation({ summary: 'Nodes with their capacity, for choosing where to deploy' })
  @ApiOkResponse({ type: NodePage })
  @ApiErrors(400)
  async list(@Query() query: NodesQuery): Promise<Page<NodeDto>> {
    return mapPage(await this.hosts.nodes(query.hostId, query), (item) => NodeDto.from(item));
  }
}
