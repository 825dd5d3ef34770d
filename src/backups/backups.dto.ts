import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsString, MaxLength } from 'class-validator';
import { Optional } from '../common/http/optional';
import { PageDto } from '../common/pagination/pagination';
import { OperationDto } from '../operations/operations.dto';
import {
  type Backup,
  BackupCompression,
  BackupMode,
  BackupStatus,
  NOTES_MAX_LENGTH,
} from './backup.entity';

export class CreateBackupBody {
  @ApiPropertyOptional({ enum: BackupMode, default: BackupMode.Snapshot })
  @Optional()
  @IsEnum(BackupMode)
  mode?: BackupMode;

  @ApiPropertyOptional({ enum: BackupCompression, default: BackupCompression.Zstd })
  @Optional()
  @IsEnum(BackupCompression)
  compress?: BackupCompression;

  @ApiPropertyOptional({ maxLength: NOTES_MAX_LENGTH })
  @Optional()
  @IsString()
  @MaxLength(NOTES_MAX_LENGTH)
  notes?: string;
}

export class BackupDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) applicationId!: string;
  @ApiProperty({ enum: BackupStatus }) status!: BackupStatus;
  @ApiProperty({ enum: BackupMode }) mode!: BackupMode;
  @ApiProperty({ enum: BackupCompression }) compress!: BackupCompression;
  @ApiProperty({ type: String, nullable: true, example: 'local:backup/vzdump-lxc-100-….tar.zst' })
  volid!: string | null;
  @ApiProperty({ type: Number, nullable: true }) sizeBytes!: number | null;
  @ApiProperty({ type: String, nullable: true }) notes!: string | null;
  @ApiProperty({ type: String, nullable: true, description: "Proximity's wording of the failure" })
  error!: string | null;
  @ApiProperty() scheduled!: boolean;
  @ApiProperty({ description: "The catalog app's version when it was backed up" })
  catalogVersion!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) completedAt!: Date | null;
  @ApiPropertyOptional({ type: OperationDto, description: 'The operation the request started' })
  operation?: OperationDto;

  static from(backup: Backup, operation?: OperationDto): BackupDto {
    return {
      id: backup.id,
      applicationId: backup.application.id,
      status: backup.status,
      mode: backup.mode,
      compress: backup.compress,
      volid: backup.volid,
      sizeBytes: backup.sizeBytes,
      notes: backup.notes,
      error: backup.error,
      scheduled: backup.scheduled,
      catalogVersion: backup.catalogVersion,
      createdAt: backup.createdAt,
      completedAt: backup.completedAt,
      ...(operation ? { operation } : {}),
    };
  }
}

export class BackupPage extends PageDto(BackupDto, 'BackupPage') {}
