import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../../common/auth/access.decorators';
import type { Actor } from '../../common/auth/actor';
import { CurrentActor, CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { ApplicationDto } from '../applications.dto';
import { AdoptBody, DiscoveredContainerPage, DiscoverQuery } from './adopt.dto';
import { AdoptRequests } from './adopt-request.service';
import { ContainerDiscovery } from './container-discovery.service';

/** Containers Proximity did not create: finding them and taking them over (admins only). */
@ApiTags('applications')
@Controller('api/apps')
@AdminOnly()
export class AdoptionsController {
  constructor(
    private readonly discovery: ContainerDiscovery,
    private readonly adoptions: AdoptRequests,
  ) {}

  @Get('discover')
  @ApiOperation({
    summary: 'Containers of a host (default: the default host) that no application manages',
  })
  @ApiOkResponse({ type: DiscoveredContainerPage })
  @ApiErrors(400, 502)
  async discover(@Query() query: DiscoverQuery): Promise<DiscoveredContainerPage> {
    return this.discovery.discover(query);
  }

  @Post('adopt')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Adopt an existing container for an owner: reserved at once, captured by a job (status adopting)',
  })
  @ApiAcceptedResponse({ type: ApplicationDto })
  @ApiErrors(400, 409, 502, 503)
  async adopt(
    @Body() body: AdoptBody,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<ApplicationDto> {
    const view = await this.adoptions.adopt(body, { ...actor, principal });
    return ApplicationDto.from(view.application, view.operation);
  }
}
