import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID, Matches } from 'class-validator';
import { Optional } from '../common/http/optional';
import { PageDto, PaginationQuery } from '../common/pagination/pagination';
import { AuditEntry, AuditOutcome } from './audit-entry.entity';

export class AuditQuery extends PaginationQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID()
  actorId?: string;

  @ApiPropertyOptional({ example: 'auth.login' })
  @Optional()
  @Matches(/^[a-z_]+(\.[a-z_]+)*$/, { message: 'action must look like "auth.login"' })
  action?: string;
}

export class AuditEntryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() at!: Date;
  @ApiProperty({ type: String, format: 'uuid', nullable: true }) actorId!: string | null;
  @ApiProperty({ example: 'auth.login' }) action!: string;
  @ApiProperty({ example: 'user' }) resourceType!: string;
  @ApiProperty({ type: String, nullable: true }) resourceId!: string | null;
  @ApiProperty({ type: String, nullable: true }) ip!: string | null;
  @ApiProperty({ enum: AuditOutcome }) outcome!: AuditOutcome;

  static from(entry: AuditEntry): AuditEntryDto {
    return {
      id: entry.id,
      at: entry.at,
      actorId: entry.actorId,
      action: entry.action,
      resourceType: entry.resourceType,
      resourceId: entry.resourceId,
      ip: entry.ip,
      outcome: entry.outcome,
    };
  }
}

export class AuditPage extends PageDto(AuditEntryDto, 'AuditPage') {}
