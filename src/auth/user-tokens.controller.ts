import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { AdminOnly } from '../common/auth/access.decorators';
import { CurrentActor } from '../common/auth/current-principal.decorator';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import { PaginationQuery, mapPage, type Page } from '../common/pagination/pagination';
import { ApiTokenDto, ApiTokenPage } from './api-tokens.dto';
import { ApiTokensService } from './api-tokens.service';

/** An admin's view of every user's personal API tokens: to find and revoke a leaked one. */
@ApiTags('users')
@Controller('api/users/:id/tokens')
@AdminOnly()
export class UserTokensController {
  constructor(private readonly tokens: ApiTokensService) {}

  @Get()
  @ApiOperation({ summary: 'A user’s personal API tokens (never their secrets)' })
  @ApiOkResponse({ type: ApiTokenPage })
  @ApiErrors(400, 404)
  async list(
    @Param('id', uuidParam()) userId: string,
    @Query() query: PaginationQuery,
  ): Promise<Page<ApiTokenDto>> {
    return mapPage(await this.tokens.listOfUser(userId, query), (item) => ApiTokenDto.from(item));
  }

  @Delete(':tokenId')
  @HttpCode(204)
  @ApiOperation({ summary: 'Revoke a user’s personal API token (audited)' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async delete(
    @Param('id', uuidParam()) userId: string,
    @Param('tokenId', uuidParam('tokenId')) tokenId: string,
    @CurrentActor() actor: Actor,
  ): Promise<void> {
    await this.tokens.delete(userId, tokenId, actor);
  }
}
