import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AdminOnly } from '../common/auth/access.decorators';
import { ApiErrors } from '../common/http/api-errors.decorator';
import { mapPage, type Page } from '../common/pagination/pagination';
import { AuditEntryDto, AuditPage, AuditQuery } from './audit.dto';
import { AuditService } from './audit.service';

@ApiTags('audit')
@Controller('api/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @AdminOnly()
  @ApiOperation({ summary: 'Audit log, newest first' })
  @ApiOkResponse({ type: AuditPage })
  @ApiErrors(400)
  async list(@Query() query: AuditQuery): Promise<Page<AuditEntryDto>> {
    return mapPage(
      await this.audit.list({ actorId: query.actorId, action: query.action }, query),
      (item) => AuditEntryDto.from(item),
    );
  }
}
