import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import {
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { AdminOnly } from '../common/auth/access.decorators';
import { CurrentActor } from '../common/auth/current-principal.decorator';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import { PaginationQuery, mapPage, type Page } from '../common/pagination/pagination';
import { CreateUserBody, UpdateUserBody, UserDto, UserPage } from './users.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('api/users')
@AdminOnly()
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Get()
  @ApiOperation({ summary: 'List users' })
  @ApiOkResponse({ type: UserPage })
  @ApiErrors(400)
  async list(@Query() query: PaginationQuery): Promise<Page<UserDto>> {
    return mapPage(await this.users.list(query), (item) => UserDto.from(item));
  }

  @Post()
  @ApiOperation({ summary: 'Create a user' })
  @ApiCreatedResponse({ type: UserDto })
  @ApiErrors(400, 409)
  async create(@Body() body: CreateUserBody, @CurrentActor() actor: Actor): Promise<UserDto> {
    return UserDto.from(await this.users.create(body, actor));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One user' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(400, 404)
  async get(@Param('id', uuidParam()) id: string): Promise<UserDto> {
    return UserDto.from(await this.users.get(id));
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Change role, disable or reset the password of a user' })
  @ApiOkResponse({ type: UserDto })
  @ApiErrors(400, 404, 409)
  async update(
    @Param('id', uuidParam()) id: string,
    @Body() body: UpdateUserBody,
    @CurrentActor() actor: Actor,
  ): Promise<UserDto> {
    return UserDto.from(await this.users.update(id, body, actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a user that owns nothing' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404, 409)
  async delete(@Param('id', uuidParam()) id: string, @CurrentActor() actor: Actor): Promise<void> {
    await this.users.delete(id, actor);
  }
}
