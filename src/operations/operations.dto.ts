import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsEnum, IsUUID } from 'class-validator';
import { Optional } from '../common/http/optional';
import { PageDto, PaginationQuery } from '../common/pagination/pagination';
import { type Operation, OperationStatus, OperationType } from './operation.entity';

export class OperationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: OperationType }) type!: OperationType;
  @ApiProperty({ enum: OperationStatus }) status!: OperationStatus;
  @ApiProperty({ minimum: 0, maximum: 100 }) progress!: number;
  @ApiProperty({ type: String, nullable: true, example: 'create_container' }) step!: string | null;
  @ApiProperty() attempts!: number;
  @ApiProperty() maxAttempts!: number;
  @ApiProperty({ type: String, nullable: true, description: "Proximity's wording of the failure" })
  error!: string | null;
  @ApiProperty({ format: 'uuid' }) applicationId!: string;
  @ApiProperty() createdAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) startedAt!: Date | null;
  @ApiProperty({ type: Date, nullable: true }) finishedAt!: Date | null;

  static from(op: Operation): OperationDto {
    return {
      id: op.id,
      type: op.type,
      status: op.status,
      progress: op.progress,
      step: op.step,
      attempts: op.attempts,
      maxAttempts: op.maxAttempts,
      error: op.error,
      applicationId: op.application.id,
      createdAt: op.createdAt,
      startedAt: op.startedAt,
      finishedAt: op.finishedAt,
    };
  }
}

export class OperationPage extends PageDto(OperationDto, 'OperationPage') {}

export class OperationsQuery extends PaginationQuery {
  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID()
  applicationId?: string;

  @ApiPropertyOptional({ enum: OperationStatus })
  @Optional()
  @IsEnum(OperationStatus)
  status?: OperationStatus;
}
