import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { OperationEnvelope } from '../applications/applications.dto';
import { Authenticated, OwnerScoped } from '../common/auth/access.decorators';
import { CurrentPrincipal } from '../common/auth/current-principal.decorator';
import type { Principal } from '../common/auth/principal';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { uuidParam } from '../common/http/uuid-param';
import { mapPage, type Page, PaginationQuery } from '../common/pagination/pagination';
import { OperationDto } from '../operations/operations.dto';
import { BackupCompression, BackupMode } from './backup.entity';
import { BackupReader } from './backup.reader';
import { BackupRequests } from './backup-requests.service';
import { BackupDto, BackupPage, CreateBackupBody } from './backups.dto';

@ApiTags('backups')
@Controller('api/apps/:id/backups')
@Authenticated()
@OwnerScoped()
export class BackupsController {
  constructor(
    private readonly reader: BackupReader,
    private readonly requests: BackupRequests,
  ) {}

  @Get()
  @ApiOperation({ summary: "The application's backups, newest first" })
  @ApiOkResponse({ type: BackupPage })
  @ApiErrors(400, 404)
  async list(
    @Param('id', uuidParam()) id: string,
    @Query() query: PaginationQuery,
    @CurrentPrincipal() principal: Principal,
  ): Promise<Page<BackupDto>> {
    return mapPage(await this.reader.page(id, principal, query), (b) => BackupDto.from(b));
  }

  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Back the application up (vzdump to the host backup storage)' })
  @ApiAcceptedResponse({ type: BackupDto })
  @ApiErrors(400, 404, 409, 503)
  async create(
    @Param('id', uuidParam()) id: string,
    @Body() body: CreateBackupBody,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BackupDto> {
    const { backup, operation } = await this.requests.create(
      id,
      {
        mode: body.mode ?? BackupMode.Snapshot,
        compress: body.compress ?? BackupCompression.Zstd,
        notes: body.notes ?? null,
      },
      principal,
    );
    return BackupDto.from(backup, OperationDto.from(operation));
  }

  @Get(':backupId')
  @ApiOperation({ summary: 'One backup' })
  @ApiOkResponse({ type: BackupDto })
  @ApiErrors(400, 404)
  async get(
    @Param('id', uuidParam()) id: string,
    @Param('backupId', uuidParam('backupId')) backupId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<BackupDto> {
    return BackupDto.from(await this.reader.one(id, backupId, principal));
  }

  @Post(':backupId/restore')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Restore the backup over the container; the app shows restoring, then its power state',
  })
  @ApiAcceptedResponse({ type: OperationEnvelope })
  @ApiErrors(400, 404, 409, 503)
  async restore(
    @Param('id', uuidParam()) id: string,
    @Param('backupId', uuidParam('backupId')) backupId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationEnvelope> {
    const { operation } = await this.requests.restore(id, backupId, principal);
    return { operation: OperationDto.from(operation) };
  }

  @Delete(':backupId')
  @HttpCode(202)
  @ApiOperation({ summary: 'Delete the backup and its archive' })
  @ApiAcceptedResponse({ type: OperationEnvelope })
  @ApiErrors(400, 404, 409, 503)
  async remove(
    @Param('id', uuidParam()) id: string,
    @Param('backupId', uuidParam('backupId')) backupId: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<OperationEnvelope> {
    const { operation } = await this.requests.delete(id, backupId, principal);
    return { operation: OperationDto.from(operation) };
  }
}
