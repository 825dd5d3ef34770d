import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { Authenticated, OwnerScoped, SessionOnly } from '../common/auth/access.decorators';
import { CurrentActor, CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import { PaginationQuery, mapPage, type Page } from '../common/pagination/pagination';
import {
  ApiTokenDto,
  ApiTokenPage,
  CreateApiTokenBody,
  CreatedApiTokenDto,
} from './api-tokens.dto';
import { ApiTokensService } from './api-tokens.service';

@ApiTags('auth')
@Controller('api/auth/tokens')
@Authenticated()
@SessionOnly()
@OwnerScoped()
export class ApiTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @ApiOperation({ summary: 'The caller’s personal API tokens (never their secrets)' })
  @ApiOkResponse({ type: ApiTokenPage })
  @ApiErrors(400)
  async list(
    @Query() query: PaginationQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Page<ApiTokenDto>> {
    return mapPage(await this.tokens.list(principal.userId, query), (item) =>
      ApiTokenDto.from(item),
    );
  }

  @Post()
  @ApiOperation({ summary: 'Create a personal API token; the token is shown only in this answer' })
  @ApiCreatedResponse({ type: CreatedApiTokenDto })
  @ApiErrors(400, 409)
  async create(
    @Body() body: CreateApiTokenBody,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<CreatedApiTokenDto> {
    const { entity, token } = await this.tokens.create(principal.userId, body, actor);
    return CreatedApiTokenDto.from(entity, token);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a personal API token' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async delete(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.tokens.delete(principal.userId, id, actor);
  }
}
