import { ApiProperty, ApiPropertyOptional, PickType } from '@nestjs/swagger';
import { Transform, Type } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsObject,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { CATALOG_ID_PATTERN, PROTOCOLS, type Protocol } from '../catalog/catalog-app';
import { Optional } from '../common/http/optional';
import { PageDto, PaginationQuery, QueryInt } from '../common/pagination/pagination';
import type { Operation } from '../operations/operation.entity';
import { OperationDto } from '../operations/operations.dto';
import type { Application } from './application.entity';
import type { ApplicationSort } from './application-list.reader';
import { ApplicationAction } from './application-state-machine';
import { ApplicationStatus } from './application-status';

/** How a secret variable's value reads in every response. */
export const MASKED = '********';

const SORTS: ApplicationSort[] = [
  'createdAt',
  '-createdAt',
  'name',
  '-name',
  'hostname',
  '-hostname',
];

export class ResourcesDto {
  @ApiProperty() cores!: number;
  @ApiProperty() memoryMb!: number;
  @ApiProperty() diskGb!: number;
}

export class ApplicationPortDto {
  @ApiProperty({ example: 'http' }) name!: string;
  @ApiProperty({ example: 80 }) containerPort!: number;
  @ApiProperty({ example: 30000 }) publicPort!: number;
  @ApiProperty({ enum: PROTOCOLS }) protocol!: Protocol;
}

/** The variables as a response shows them: secret values masked, never decrypted. */
export function maskedEnvironment(
  environment: Record<string, string>,
  secretKeys: readonly string[],
): Record<string, string> {
  const shown: Record<string, string> = { ...environment };
  for (const key of secretKeys) shown[key] = MASKED;
  return shown;
}

export class ApplicationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() hostname!: string;
  @ApiProperty({ type: String, nullable: true, description: 'Null for an adopted container' })
  catalogId!: string | null;
  @ApiProperty({ enum: ApplicationStatus }) status!: ApplicationStatus;
  @ApiProperty({ format: 'uuid' }) hostId!: string;
  @ApiProperty() node!: string;
  @ApiProperty({ type: Number, nullable: true }) vmid!: number | null;
  @ApiProperty({ format: 'uuid' }) ownerId!: string;
  @ApiProperty() adopted!: boolean;
  @ApiProperty({ type: ResourcesDto }) resources!: ResourcesDto;
  @ApiProperty({ type: [ApplicationPortDto] }) ports!: ApplicationPortDto[];
  @ApiProperty({ type: String, nullable: true, example: 'http://pve.lan:30000' })
  url!: string | null;
  @ApiProperty({ type: String, nullable: true }) ipAddress!: string | null;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'string' },
    description: `Secret values read "${MASKED}"`,
  })
  environment!: Record<string, string>;
  @ApiProperty({ type: OperationDto, nullable: true, description: 'The current operation' })
  operation!: OperationDto | null;
  @ApiProperty({ type: String, nullable: true }) lastError!: string | null;
  @ApiProperty() createdAt!: Date;
  @ApiProperty() updatedAt!: Date;

  static from(app: Application, current: Operation | null): ApplicationDto {
    return {
      id: app.id,
      name: app.name,
      hostname: app.hostname,
      catalogId: app.catalogId,
      status: app.status,
      hostId: app.host.id,
      node: app.node,
      vmid: app.vmid,
      ownerId: app.owner.id,
      adopted: app.adopted,
      resources: { cores: app.cores, memoryMb: app.memoryMb, diskGb: app.diskGb },
      ports: app.ports.getItems().map((p) => ({
        name: p.name,
        containerPort: p.containerPort,
        publicPort: p.port,
        protocol: p.protocol,
      })),
      url: app.url,
      ipAddress: app.ipAddress,
      environment: maskedEnvironment(app.environment, app.secretEnvironmentKeys),
      operation: current ? OperationDto.from(current) : null,
      lastError: app.lastError,
      createdAt: app.createdAt,
      updatedAt: app.updatedAt,
    };
  }
}

export class ApplicationPage extends PageDto(ApplicationDto, 'ApplicationPage') {}

export class ApplicationsQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: ApplicationStatus })
  @Optional()
  @IsEnum(ApplicationStatus)
  status?: ApplicationStatus;

  @ApiPropertyOptional({ maxLength: 100, description: 'Case-insensitive, in name and hostname' })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  search?: string;

  @ApiPropertyOptional({ format: 'uuid' })
  @Optional()
  @IsUUID()
  hostId?: string;

  @ApiPropertyOptional({ enum: SORTS, default: '-createdAt' })
  @Optional()
  @IsIn(SORTS)
  sort?: ApplicationSort;
}

export const MAX_LOG_LIMIT = 500;

export class LogsQuery {
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_LOG_LIMIT, default: 100 })
  @QueryInt()
  @IsInt()
  @Min(1)
  @Max(MAX_LOG_LIMIT)
  limit: number = 100;

  @ApiPropertyOptional({ description: 'The nextCursor of the previous page' })
  @Optional()
  @IsString()
  @MaxLength(200)
  before?: string;
}

export class LogLineDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() at!: Date;
  @ApiProperty({ enum: ['info', 'warn', 'error'] }) level!: string;
  @ApiProperty({ type: String, nullable: true }) step!: string | null;
  @ApiProperty() message!: string;
}

export class LogPage {
  @ApiProperty({ type: [LogLineDto], description: 'Newest first' }) items!: LogLineDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as `before` for older lines' })
  nextCursor!: string | null;
}

export class CredentialsDto {
  @ApiProperty({ type: String, nullable: true, description: 'Null for an adopted container' })
  rootPassword!: string | null;
}

/** RFC 1123 label, lowercase: it becomes the container's hostname. */
export const HOSTNAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class DeployResourcesBody {
  @ApiPropertyOptional({ minimum: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  cores?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  memoryMb?: number;

  @ApiPropertyOptional({ minimum: 1 })
  @Optional()
  @IsInt()
  @Min(1)
  diskGb?: number;
}

export class DeployBody {
  @ApiProperty({ example: 'whoami' })
  @IsString()
  @Matches(CATALOG_ID_PATTERN, { message: 'catalogId must name a catalog app' })
  catalogId!: string;

  @ApiProperty({ example: 'my-app', description: 'One lowercase RFC 1123 label' })
  @IsString()
  @Matches(HOSTNAME_PATTERN, {
    message: 'hostname must be 1..63 characters of a-z, 0-9 and -, not starting or ending with -',
  })
  hostname!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: 80, description: "Default: the app's name" })
  @Optional()
  @IsString()
  @MinLength(1)
  @MaxLength(80)
  name?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Default: the default host' })
  @Optional()
  @IsUUID()
  hostId?: string;

  @ApiPropertyOptional({ description: 'Default: the online node with the most free memory' })
  @Optional()
  @IsString()
  @Matches(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/, { message: 'node must be a node name' })
  node?: string;

  @ApiPropertyOptional({ type: DeployResourcesBody })
  @Optional()
  @IsObject()
  @ValidateNested()
  @Type(() => DeployResourcesBody)
  resources?: DeployResourcesBody;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: { type: 'string', maxLength: 4096 },
    description: 'Only variables the catalog app declares',
  })
  @Optional()
  @IsObject()
  environment?: Record<string, string>;
}

/** The new application's hostname, validated as a deployment's. */
export class CloneBody extends PickType(DeployBody, ['hostname'] as const) {}

/** A hostname to check before a deploy or a clone, validated as theirs. */
export class HostnameAvailabilityQuery extends PickType(DeployBody, ['hostname'] as const) {}

export class HostnameAvailabilityDto {
  @ApiProperty({ example: 'my-app' }) hostname!: string;
  @ApiProperty() available!: boolean;
  @ApiPropertyOptional({
    example: 'this hostname is taken by another application',
    description: 'Why it is not available; absent when it is',
  })
  reason?: string;
}

export const USER_ACTIONS = [
  ApplicationAction.Start,
  ApplicationAction.Stop,
  ApplicationAction.Restart,
] as const;

export class ActionBody {
  @ApiProperty({ enum: USER_ACTIONS })
  @IsIn(USER_ACTIONS)
  action!: (typeof USER_ACTIONS)[number];
}

export class OperationEnvelope {
  @ApiProperty({ type: OperationDto }) operation!: OperationDto;
}

/** `true`/`false` in a query string; anything else is left for @IsBoolean() to refuse. */
const QUERY_BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false };

const queryBoolean = () =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && value in QUERY_BOOLEANS ? QUERY_BOOLEANS[value] : value,
  );

export class RemoveQuery {
  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: 'An adopted application: destroy its container instead of unmanaging it',
  })
  @Optional()
  @queryBoolean()
  @IsBoolean()
  destroy?: boolean;

  @ApiPropertyOptional({
    type: Boolean,
    default: false,
    description: "Leave the app's backup archives in storage",
  })
  @Optional()
  @queryBoolean()
  @IsBoolean()
  keepBackups?: boolean;
}
