import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  IsBoolean,
  IsEnum,
  IsInt,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Optional } from '../../common/http/optional';
import { BackupCompression, BackupMode } from '../backup.entity';
import type { BackupSchedule } from './backup-schedule.entity';

export class BackupScheduleBody {
  @ApiProperty({
    description:
      'Cron expression read in UTC: five fields (minute hour day month weekday), or six with seconds first; runs at least the configured minimum interval apart',
    example: '0 3 * * *',
    maxLength: 120,
  })
  @IsString()
  @MinLength(1)
  @MaxLength(120)
  cron!: string;

  @ApiProperty({
    minimum: 1,
    maximum: 100,
    description: 'Scheduled backups kept; manual ones are never pruned',
  })
  @IsInt()
  @Min(1)
  @Max(100)
  keepLast!: number;

  @ApiPropertyOptional({ enum: BackupMode, default: 'snapshot' })
  @Optional()
  @IsEnum(BackupMode)
  mode?: BackupMode;

  @ApiPropertyOptional({ enum: BackupCompression, default: 'zstd' })
  @Optional()
  @IsEnum(BackupCompression)
  compress?: BackupCompression;

  @ApiPropertyOptional({ default: true })
  @Optional()
  @IsBoolean()
  enabled?: boolean;
}

export class BackupScheduleDto {
  @ApiProperty() cron!: string;
  @ApiProperty() keepLast!: number;
  @ApiProperty({ enum: BackupMode }) mode!: BackupMode;
  @ApiProperty({ enum: BackupCompression }) compress!: BackupCompression;
  @ApiProperty() enabled!: boolean;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'The next run; null while disabled',
  })
  nextRunAt!: string | null;

  static from(schedule: BackupSchedule, nextRunAt: Date | null): BackupScheduleDto {
    return {
      cron: schedule.cron,
      keepLast: schedule.keepLast,
      mode: schedule.mode,
      compress: schedule.compress,
      enabled: schedule.enabled,
      nextRunAt: nextRunAt?.toISOString() ?? null,
    };
  }
}
