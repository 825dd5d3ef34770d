import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AcrossOwners, Authenticated, OwnerScoped } from '../common/auth/access.decorators';
import type { Actor } from '../common/auth/actor';
import { CurrentActor, CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import type { Page } from '../common/pagination/pagination';
import { OperationDto } from '../operations/operations.dto';
import {
  ActionBody,
  ApplicationDto,
  ApplicationPage,
  ApplicationsQuery,
  CloneBody,
  CredentialsDto,
  DeployBody,
  HostnameAvailabilityDto,
  HostnameAvailabilityQuery,
  LogPage,
  LogsQuery,
  OperationEnvelope,
  RemoveQuery,
} from './applications.dto';
import { ApplicationListReader } from './application-list.reader';
import { ApplicationsService } from './applications.service';
import { ApplicationAction } from './application-state-machine';
import { CloneRequests } from './clone/clone-request.service';
import { DeployRequests } from './deploy/deploy-request.service';
import { LifecycleRequests } from './lifecycle/lifecycle-request.service';

@ApiTags('applications')
@Controller('api/apps')
@Authenticated()
@OwnerScoped()
export class ApplicationsController {
  constructor(
    private readonly applications: ApplicationsService,
    private readonly listReader: ApplicationListReader,
    private readonly deployments: DeployRequests,
    private readonly lifecycle: LifecycleRequests,
    private readonly clones: CloneRequests,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Applications the caller owns (admins: all)' })
  @ApiOkResponse({ type: ApplicationPage })
  @ApiErrors(400)
  async list(
    @Query() query: ApplicationsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Page<ApplicationDto>> {
    return this.listReader.page(principal, query, query);
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Deploy a catalog app: allocated at once, deployed by a job (status deploying)',
  })
  @ApiAcceptedResponse({ type: ApplicationDto })
  @ApiErrors(400, 409, 502, 503)
  async deploy(
    @Body() body: DeployBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ApplicationDto> {
    const view = await this.deployments.deploy(body, principal);
    return ApplicationDto.from(view.application, view.operation);
  }

  // Declared before ':id', which would otherwise take the path as an id.
  @Get('hostname-availability')
  @AcrossOwners()
  @ApiOperation({
    summary:
      'Whether a deploy or clone could take a hostname now (unique across all users; reveals no owner)',
  })
  @ApiOkResponse({ type: HostnameAvailabilityDto })
  @ApiErrors(400)
  async hostnameAvailability(
    @Query() query: HostnameAvailabilityQuery,
  ): Promise<HostnameAvailabilityDto> {
    return this.applications.hostnameAvailability(query.hostname);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One application with its current operation' })
  @ApiOkResponse({ type: ApplicationDto })
  @ApiErrors(400, 404)
  async get(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ApplicationDto> {
    const view = await this.applications.get(id, principal);
    return ApplicationDto.from(view.application, view.operation);
  }

  @Post(':id/actions')
  @HttpCode(202)
  @ApiOperation({ summary: 'Start, stop or restart; the application shows the transitional state' })
  @ApiAcceptedResponse({ type: OperationEnvelope })
  @ApiErrors(400, 404, 409, 503)
  async act(
    @Param('id', uuidParam()) id: string,
    @Body() body: ActionBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationEnvelope> {
    const operation = await this.lifecycle.request(id, body.action, principal);
    return { operation: OperationDto.from(operation) };
  }

  @Delete(':id')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Remove: stop, destroy the container, remove its rules and backup archives (unless keepBackups), release, delete the row (an adopted one is only unmanaged unless destroy=true)',
  })
  @ApiAcceptedResponse({ type: OperationEnvelope })
  @ApiErrors(400, 404, 409, 503)
  async remove(
    @Param('id', uuidParam()) id: string,
    @Query() query: RemoveQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationEnvelope> {
    const operation = await this.lifecycle.request(id, ApplicationAction.Delete, principal, {
      destroy: query.destroy === true,
      keepBackups: query.keepBackups === true,
    });
    return { operation: OperationDto.from(operation) };
  }

  @Post(':id/clone')
  @HttpCode(202)
  @ApiOperation({
    summary:
      'Clone: a new application (status cloning) from a running or stopped one, on its node; owned by its owner',
  })
  @ApiAcceptedResponse({ type: ApplicationDto })
  @ApiErrors(400, 404, 409, 502, 503)
  async clone(
    @Param('id', uuidParam()) id: string,
    @Body() body: CloneBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ApplicationDto> {
    const view = await this.clones.clone(id, body.hostname, principal);
    return ApplicationDto.from(view.application, view.operation);
  }

  @Get(':id/logs')
  @ApiOperation({ summary: 'The application log, newest first, by cursor' })
  @ApiOkResponse({ type: LogPage })
  @ApiErrors(400, 404)
  async logs(
    @Param('id', uuidParam()) id: string,
    @Query() query: LogsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<LogPage> {
    const slice = await this.applications.logs(id, principal, query.limit, query.before);
    return {
      items: slice.items.map((line) => ({
        id: line.id,
        at: line.at,
        level: line.level,
        step: line.step,
        message: line.message,
      })),
      nextCursor: slice.nextCursor,
    };
  }

  @Get(':id/credentials')
  @ApiOperation({
    summary:
      "The container's root password: its owner only (an admin who is not gets 404); audited",
  })
  @ApiOkResponse({ type: CredentialsDto })
  @ApiErrors(400, 404, 409)
  async credentials(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<CredentialsDto> {
    return { rootPassword: await this.applications.credentials(id, { ...actor, principal }) };
  }
}
