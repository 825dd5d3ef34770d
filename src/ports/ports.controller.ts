import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/access.decorators';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { PortAllocationDto, PortPage, PortsQuery } from './ports.dto';
import { PortsService } from './ports.service';

@ApiTags('ports')
@Controller('api/ports')
@AdminOnly()
export class PortsController {
  constructor(private readonly ports: PortsService) {}

  @Get()
  @ApiOperation({ summary: "Public port allocations and each host's pool usage" })
  @ApiOkResponse({ type: PortPage })
  @ApiErrors(400)
  async list(@Query() query: PortsQuery): Promise<PortPage> {
    const overview = await this.ports.overview(query.hostId, query);
    return { ...overview, items: overview.items.map((item) => PortAllocationDto.from(item)) };
  }
}
