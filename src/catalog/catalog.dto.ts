import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { PageDto, PaginationQuery } from '../common/pagination/pagination';
import {
  GENERATORS,
  PROTOCOLS,
  type CatalogApp,
  type CatalogEnvVar,
  type CatalogPort,
  type GenerateKind,
  type Protocol,
} from './catalog-app';
import type { CatalogReloadSummary } from './catalog-reload.service';
import type { CategoryCount } from './catalog.service';

export const SEARCH_MAX_LENGTH = 100;
/** Category filter: a slug, matched case-insensitively. */
export const CATEGORY_QUERY_PATTERN = /^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;

export class CatalogQuery extends PaginationQuery {
  @ApiPropertyOptional({
    maxLength: SEARCH_MAX_LENGTH,
    description: 'Case-insensitive text searched in the name, the description and the tags',
  })
  @IsOptional()
  @IsString()
  @MaxLength(SEARCH_MAX_LENGTH)
  search?: string;

  @ApiPropertyOptional({ example: 'monitoring', pattern: CATEGORY_QUERY_PATTERN.source })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  @Matches(CATEGORY_QUERY_PATTERN, { message: 'category must be a slug such as "monitoring"' })
  category?: string;
}

export class CatalogPortDto {
  @ApiProperty({ example: 'web' }) name!: string;
  @ApiProperty({
    example: 3001,
    description: 'Port the app answers on in its LXC container; a public port is forwarded to it',
  })
  containerPort!: number;
  @ApiProperty({ enum: PROTOCOLS }) protocol!: Protocol;

  static from(port: CatalogPort): CatalogPortDto {
    return { name: port.name, containerPort: port.containerPort, protocol: port.protocol };
  }
}

export class CatalogEnvVarDto {
  @ApiProperty({ example: 'ADMIN_EMAIL' }) name!: string;
  @ApiProperty() description!: string;
  @ApiPropertyOptional({ description: 'Never present on a secret variable' }) default?: string;
  @ApiProperty({
    description: 'Must be given at deploy time unless it has a default or is generated',
  })
  required!: boolean;
  @ApiProperty({ description: 'Shown as "********" once deployed' }) secret!: boolean;
  @ApiPropertyOptional({
    enum: GENERATORS,
    description: 'Generated per deployment when not given',
  })
  generate?: GenerateKind;

  static from(variable: CatalogEnvVar): CatalogEnvVarDto {
    return {
      name: variable.name,
      description: variable.description,
      // The loader refuses defaults on secrets; the public shape makes sure twice.
      ...(variable.default !== undefined && !variable.secret ? { default: variable.default } : {}),
      required: variable.required,
      secret: variable.secret,
      ...(variable.generate ? { generate: variable.generate } : {}),
    };
  }
}

/** The public view of a catalog app: everything but the compose template. */
export class CatalogAppDto {
  @ApiProperty({ example: 'uptime-kuma' }) id!: string;
  @ApiProperty({ example: 'Uptime Kuma' }) name!: string;
  @ApiProperty({ example: '1.23.16' }) version!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ example: 'monitoring' }) category!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ format: 'uri' }) icon!: string;
  @ApiProperty({ format: 'uri' }) website!: string;
  @ApiProperty({ example: 1 }) minCores!: number;
  @ApiProperty({ example: 512 }) minMemoryMb!: number;
  @ApiProperty({ example: 4 }) minDiskGb!: number;
  @ApiProperty({ type: [CatalogPortDto] }) ports!: CatalogPortDto[];
  @ApiProperty({ type: [CatalogEnvVarDto] }) env!: CatalogEnvVarDto[];

  static from(app: CatalogApp): CatalogAppDto {
    return {
      id: app.id,
      name: app.name,
      version: app.version,
      description: app.description,
      category: app.category,
      tags: [...app.tags],
      icon: app.icon,
      website: app.website,
      minCores: app.minCores,
      minMemoryMb: app.minMemoryMb,
      minDiskGb: app.minDiskGb,
      ports: app.ports.map((p) => CatalogPortDto.from(p)),
      env: app.env.map((v) => CatalogEnvVarDto.from(v)),
    };
  }
}

export class CatalogPage extends PageDto(CatalogAppDto, 'CatalogPage') {}

export class CategoryDto {
  @ApiProperty({ example: 'monitoring' }) name!: string;
  @ApiProperty({ example: 3 }) count!: number;
}

export class CategoryListDto {
  @ApiProperty({ type: [CategoryDto] }) items!: CategoryDto[];

  static from(categories: CategoryCount[]): CategoryListDto {
    return { items: categories.map((c) => ({ name: c.name, count: c.count })) };
  }
}

export class CatalogLoadErrorDto {
  @ApiProperty({ example: 'gitea.yaml' }) file!: string;
  @ApiProperty({ example: 'compose.services.gitea.image: must not use the "latest" tag' })
  message!: string;
}

export class CatalogReloadResultDto {
  @ApiProperty({ example: 34, description: 'Apps now in the catalog' }) loaded!: number;
  @ApiProperty({ type: [CatalogLoadErrorDto], description: 'Files skipped, with the reason' })
  errors!: CatalogLoadErrorDto[];

  static from(summary: CatalogReloadSummary): CatalogReloadResultDto {
    return {
      loaded: summary.loaded,
      errors: summary.errors.map((e) => ({ file: e.file, message: e.message })),
    };
  }
}
