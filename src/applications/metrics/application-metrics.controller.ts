import { Controller, Get, Param } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, OwnerScoped } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { uuidParam } from '../../common/http/uuid-param';
import { ApplicationMetricsDto } from './application-metrics.dto';
import { ApplicationMetricsService } from './application-metrics.service';

@ApiTags('applications')
@Controller('api/apps')
@Authenticated()
@OwnerScoped()
export class ApplicationMetricsController {
  constructor(private readonly metrics: ApplicationMetricsService) {}

  @Get(':id/metrics')
  @ApiOperation({
    summary:
      "Live CPU, memory, disk, uptime and network of the application's container; " +
      '409 while it has no container, 502 when Proxmox fails',
  })
  @ApiOkResponse({ type: ApplicationMetricsDto })
  @ApiErrors(400, 404, 409, 502)
  read(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ApplicationMetricsDto> {
    return this.metrics.read(id, principal);
  }
}
