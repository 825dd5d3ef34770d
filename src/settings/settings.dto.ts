import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsIn,
  IsInt,
  IsIP,
  IsObject,
  IsString,
  Max,
  Min,
  ValidateNested,
} from 'class-validator';
import { Optional } from '../common/http/optional';
import type {
  NetworkSettings,
  ResourceDefaults,
  ResourceLimits,
  Settings,
} from './settings.entity';

export class ResourceDefaultsDto implements ResourceDefaults {
  @ApiProperty({ minimum: 1, maximum: 128 }) @IsInt() @Min(1) @Max(128) cores!: number;
  @ApiProperty({ minimum: 128, maximum: 1_048_576 })
  @IsInt()
  @Min(128)
  @Max(1_048_576)
  memoryMb!: number;
  @ApiProperty({ minimum: 1, maximum: 65_536 }) @IsInt() @Min(1) @Max(65_536) diskGb!: number;
  @ApiProperty({ minimum: 0, maximum: 65_536 }) @IsInt() @Min(0) @Max(65_536) swapMb!: number;
}

export class ResourceLimitsDto implements ResourceLimits {
  @ApiProperty({ minimum: 1, maximum: 128 }) @IsInt() @Min(1) @Max(128) maxCores!: number;
  @ApiProperty({ minimum: 128, maximum: 1_048_576 })
  @IsInt()
  @Min(128)
  @Max(1_048_576)
  maxMemoryMb!: number;
  @ApiProperty({ minimum: 1, maximum: 65_536 }) @IsInt() @Min(1) @Max(65_536) maxDiskGb!: number;
  @ApiProperty({ minimum: 1, maximum: 10_000 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  maxAppsPerUser!: number;
}

export class NetworkSettingsDto implements NetworkSettings {
  @ApiProperty({ enum: ['dhcp', 'static'] })
  @IsIn(['dhcp', 'static'])
  ipMode!: 'dhcp' | 'static';

  @ApiPropertyOptional({ example: '10.0.0.0/24', description: 'IPv4 network; required for static' })
  @Optional()
  @IsString()
  cidr?: string;

  @ApiPropertyOptional({ example: '10.0.0.1', description: 'Inside cidr; required for static' })
  @Optional()
  @IsIP(4)
  gateway?: string;

  @ApiProperty({ type: [String], example: ['1.1.1.1'], maxItems: 4 })
  @IsArray()
  @ArrayMaxSize(4)
  @IsIP(undefined, { each: true })
  dns!: string[];
}

export class SettingsDto {
  @ApiProperty({ type: ResourceDefaultsDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ResourceDefaultsDto)
  defaults!: ResourceDefaultsDto;

  @ApiProperty({ type: ResourceLimitsDto })
  @IsObject()
  @ValidateNested()
  @Type(() => ResourceLimitsDto)
  limits!: ResourceLimitsDto;

  @ApiProperty({ type: NetworkSettingsDto })
  @IsObject()
  @ValidateNested()
  @Type(() => NetworkSettingsDto)
  network!: NetworkSettingsDto;

  static from(settings: Settings): SettingsDto {
    const { cidr, gateway, ipMode, dns } = settings.network;
    return {
      defaults: { ...settings.defaults },
      limits: { ...settings.limits },
      network: {
        ipMode,
        dns: [...dns],
        ...(cidr !== undefined ? { cidr } : {}),
        ...(gateway !== undefined ? { gateway } : {}),
      },
    };
  }
}
