import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsInt,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Optional } from '../../common/http/optional';
import { PageDto, PaginationQuery } from '../../common/pagination/pagination';

export const MAX_EXPOSED_PORTS = 20;

export class DiscoverQuery extends PaginationQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Default: the default host' })
  @Optional()
  @IsUUID()
  hostId?: string;
}

/** A container as the cluster lists it; null fields: not sampled by Proxmox yet. */
export class DiscoveredContainerDto {
  @ApiProperty() vmid!: number;
  @ApiProperty() node!: string;
  @ApiProperty({ type: String, nullable: true }) hostname!: string | null;
  @ApiProperty({ enum: ['running', 'stopped', 'unknown'] })
  status!: 'running' | 'stopped' | 'unknown';
  @ApiProperty({ type: Number, nullable: true }) cores!: number | null;
  @ApiProperty({ type: Number, nullable: true }) memoryMb!: number | null;
  @ApiProperty({ type: Number, nullable: true }) diskGb!: number | null;
}

export class DiscoveredContainerPage extends PageDto(
  DiscoveredContainerDto,
  'DiscoveredContainerPage',
) {}

export class AdoptBody {
  @ApiProperty({ format: 'uuid' })
  @IsUUID()
  hostId!: string;

  @ApiProperty({ example: 'pve1' })
  @IsString()
  @Matches(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, { message: 'node must be a node name' })
  node!: string;

  @ApiProperty({ minimum: 100, maximum: 999_999_999 })
  @IsInt()
  @Min(100)
  @Max(999_999_999)
  vmid!: number;

  @ApiProperty({ format: 'uuid', description: 'The user who will own the application' })
  @IsUUID()
  ownerId!: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: 80,
    description: "Default: the container's hostname",
  })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(80)
  name?: string;

  @ApiPropertyOptional({
    type: [Number],
    maxItems: MAX_EXPOSED_PORTS,
    description: 'TCP ports of the container to forward from public ports; the first is the URL',
  })
  @Optional()
  @IsArray()
  @ArrayMaxSize(MAX_EXPOSED_PORTS)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(65535, { each: true })
  exposePorts?: number[];
}
