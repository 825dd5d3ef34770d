import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsInt, Matches, Max, Min } from 'class-validator';
import type { Scope } from '../common/auth/principal';
import { Optional } from '../common/http/optional';
import { PageDto } from '../common/pagination/pagination';
import { API_TOKEN_SCOPES, type ApiToken } from './api-token.entity';

export const API_TOKEN_MAX_DAYS = 365;
export const API_TOKEN_DEFAULT_DAYS = 90;

export class CreateApiTokenBody {
  @ApiProperty({ example: 'backup script', minLength: 1, maxLength: 80 })
  @Matches(/^[\p{L}\p{N} ._:/@-]{1,80}$/u, {
    message: 'name must be 1..80 letters, digits, spaces or ._:/@-',
  })
  name!: string;

  @ApiPropertyOptional({ minimum: 1, maximum: API_TOKEN_MAX_DAYS, default: API_TOKEN_DEFAULT_DAYS })
  @Optional()
  @IsInt()
  @Min(1)
  @Max(API_TOKEN_MAX_DAYS)
  expiresInDays?: number;

  @ApiPropertyOptional({
    enum: API_TOKEN_SCOPES,
    default: 'write',
    description: '`read` allows GET and HEAD only',
  })
  @Optional()
  @IsIn(API_TOKEN_SCOPES)
  scope?: Scope;
}

export class ApiTokenDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: API_TOKEN_SCOPES }) scope!: Scope;
  @ApiProperty() expiresAt!: Date;
  @ApiProperty({ type: Date, nullable: true }) lastUsedAt!: Date | null;
  @ApiProperty() createdAt!: Date;

  static from(token: ApiToken): ApiTokenDto {
    return {
      id: token.id,
      name: token.name,
      scope: token.scope,
      expiresAt: token.expiresAt,
      lastUsedAt: token.lastUsedAt,
      createdAt: token.createdAt,
    };
  }
}

export class CreatedApiTokenDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ enum: API_TOKEN_SCOPES }) scope!: Scope;
  @ApiProperty({ description: 'Shown once; only its digest is stored' }) token!: string;
  @ApiProperty() expiresAt!: Date;

  static from(entity: ApiToken, token: string): CreatedApiTokenDto {
    return {
      id: entity.id,
      name: entity.name,
      scope: entity.scope,
      token,
      expiresAt: entity.expiresAt,
    };
  }
}

export class ApiTokenPage extends PageDto(ApiTokenDto, 'ApiTokenPage') {}
