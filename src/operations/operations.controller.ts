import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, OwnerScoped } from '../common/auth/access.decorators';
import { CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import { mapPage, type Page } from '../common/pagination/pagination';
import { OperationDto, OperationPage, OperationsQuery } from './operations.dto';
import { OperationsService } from './operations.service';

@ApiTags('operations')
@Controller('api/operations')
@Authenticated()
@OwnerScoped()
export class OperationsController {
  constructor(private readonly operations: OperationsService) {}

  @Get()
  @ApiOperation({ summary: 'Operations on the applications the caller owns (admins: all)' })
  @ApiOkResponse({ type: OperationPage })
  @ApiErrors(400)
  async list(
    @Query() query: OperationsQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Page<OperationDto>> {
    const page = await this.operations.list(principal, query, query);
    return mapPage(page, (op) => OperationDto.from(op));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One operation' })
  @ApiOkResponse({ type: OperationDto })
  @ApiErrors(400, 404)
  async get(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationDto> {
    return OperationDto.from(await this.operations.findOwned(id, principal));
  }
}
