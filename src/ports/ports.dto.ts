import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsUUID } from 'class-validator';
import { PROTOCOLS, type Protocol } from '../catalog/catalog-app';
import { Optional } from '../common/http/optional';
import { PaginationQuery } from '../common/pagination/pagination';
import type { PortAllocation } from './port-allocation.entity';

export class PortsQuery extends PaginationQuery {
  @ApiPropertyOptional({ format: 'uuid', description: 'Only this host (default: every host)' })
  @Optional()
  @IsUUID()
  hostId?: string;
}

export class PortAllocationDto {
  @ApiProperty({ format: 'uuid' }) hostId!: string;
  @ApiProperty({ example: 30000 }) port!: number;
  @ApiProperty({ format: 'uuid' }) applicationId!: string;
  @ApiProperty({ enum: PROTOCOLS }) protocol!: Protocol;

  static from(allocation: PortAllocation): PortAllocationDto {
    return {
      hostId: allocation.host.id,
      port: allocation.port,
      applicationId: allocation.application.id,
      protocol: allocation.protocol,
    };
  }
}

export class PortRangeDto {
  @ApiProperty({ format: 'uuid' }) hostId!: string;
  @ApiProperty({ example: 30000 }) min!: number;
  @ApiProperty({ example: 32767 }) max!: number;
  @ApiProperty({ description: 'Port numbers of the range held by an allocation (any protocol)' })
  used!: number;
  @ApiProperty({ description: 'Port numbers of the range no allocation holds' })
  free!: number;
}

export class PortPage {
  @ApiProperty({ type: [PortAllocationDto] }) items!: PortAllocationDto[];
  @ApiProperty() total!: number;
  @ApiProperty() page!: number;
  @ApiProperty() perPage!: number;
  @ApiProperty({ type: [PortRangeDto], description: "Each host's pool and its usage" })
  ranges!: PortRangeDto[];
  @ApiProperty({ description: 'Sum of used over the ranges' }) used!: number;
  @ApiProperty({ description: 'Sum of free over the ranges' }) free!: number;
}
