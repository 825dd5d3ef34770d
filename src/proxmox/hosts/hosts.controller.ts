import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../../common/auth/actor';
import { AdminOnly } from '../../common/auth/access.decorators';
import { CurrentActor } from '../../common/auth/current-principal.decorator';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { uuidParam } from '../../common/http/uuid-param';
import { PaginationQuery, mapPage, type Page } from '../../common/pagination/pagination';
import {
  CreateHostBody,
  HostDto,
  HostPage,
  HostSyncResult,
  HostTestResult,
  UpdateHostBody,
} from './hosts.dto';
import { HostTester } from './host-tester';
import { HostsService } from './hosts.service';

@ApiTags('proxmox')
@Controller('api/proxmox/hosts')
@AdminOnly()
export class HostsController {
  constructor(
    private readonly hosts: HostsService,
    private readonly tester: HostTester,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Proxmox hosts (secrets never included)' })
  @ApiOkResponse({ type: HostPage })
  @ApiErrors(400)
  async list(@Query() query: PaginationQuery): Promise<Page<HostDto>> {
    return mapPage(await this.hosts.list(query), (item) => HostDto.from(item));
  }

  @Post()
  @ApiOperation({
    summary: 'Register a Proxmox host; TLS and SSH must be pinned or explicitly insecure',
  })
  @ApiCreatedResponse({ type: HostDto })
  @ApiErrors(400, 409)
  async create(@Body() body: CreateHostBody, @CurrentActor() actor: Actor): Promise<HostDto> {
    return HostDto.from(await this.hosts.create(body, actor));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One Proxmox host' })
  @ApiOkResponse({ type: HostDto })
  @ApiErrors(400, 404)
  async get(@Param('id', uuidParam()) id: string): Promise<HostDto> {
    return HostDto.from(await this.hosts.get(id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change a host; new credentials take effect on the next call' })
  @ApiOkResponse({ type: HostDto })
  @ApiErrors(400, 404, 409)
  async update(
    @Param('id', uuidParam()) id: string,
    @Body() body: UpdateHostBody,
    @CurrentActor() actor: Actor,
  ): Promise<HostDto> {
    return HostDto.from(await this.hosts.update(id, body, actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove a host that no application lives on' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404, 409)
  async delete(@Param('id', uuidParam()) id: string, @CurrentActor() actor: Actor): Promise<void> {
    await this.hosts.delete(id, actor);
  }

  @Post(':id/test')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Check that the API and SSH answer with these credentials and pins; answers within 10 s',
  })
  @ApiOkResponse({ type: HostTestResult })
  @ApiErrors(400, 404)
  test(@Param('id', uuidParam()) id: string): Promise<HostTestResult> {
    return this.tester.test(id);
  }

  @Post(':id/sync')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Refresh the node list; nodes gone from the cluster are marked offline',
  })
  @ApiOkResponse({ type: HostSyncResult })
  @ApiErrors(400, 404, 409, 502)
  async sync(
    @Param('id', uuidParam()) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<HostSyncResult> {
    return { nodes: await this.hosts.sync(id, actor) };
  }
}
