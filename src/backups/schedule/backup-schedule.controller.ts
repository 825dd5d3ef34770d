import { Body, Controller, Delete, Get, HttpCode, Param, Put } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Authenticated, OwnerScoped } from '../../common/auth/access.decorators';
import { CurrentPrincipal } from '../../common/auth/current-principal.decorator';
import type { Principal } from '../../common/auth/principal';
import { ApiErrors } from '../../common/http/api-errors.decorator';
import { uuidParam } from '../../common/http/uuid-param';
import { BackupScheduleBody, BackupScheduleDto } from './backup-schedule.dto';
import { BackupSchedules } from './backup-schedules.service';

@ApiTags('backups')
@Controller('api/apps/:id/backup-schedule')
@Authenticated()
@OwnerScoped()
export class BackupScheduleController {
  constructor(private readonly schedules: BackupSchedules) {}

  @Get()
  @ApiOperation({ summary: "The application's backup schedule (404 when it has none)" })
  @ApiOkResponse({ type: BackupScheduleDto })
  @ApiErrors(400, 404)
  get(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BackupScheduleDto> {
    return this.schedules.get(id, principal);
  }

  @Put()
  @ApiOperation({
    summary: 'Create or replace the backup schedule; scheduled backups beyond keepLast are pruned',
  })
  @ApiOkResponse({ type: BackupScheduleDto })
  @ApiErrors(400, 404)
  put(
    @Param('id', uuidParam()) id: string,
    @Body() body: BackupScheduleBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BackupScheduleDto> {
    return this.schedules.put(id, body, principal);
  }

  @Delete()
  @HttpCode(204)
  @ApiOperation({ summary: 'Remove the backup schedule (its backups are kept)' })
  @ApiNoContentResponse()
  @ApiErrors(400, 404)
  async remove(
    @Param('id', uuidParam()) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.schedules.remove(id, principal);
  }
}
