import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Actor } from '../common/auth/actor';
import { AdminOnly, Public } from '../common/auth/access.decorators';
import { CurrentActor } from '../common/auth/current-principal.decorator';
import { ApiErrors } from '../common/http/api-errors.decorator';
import type { Page } from '../common/pagination/pagination';
import { CATALOG_ID_PATTERN } from './catalog-app';
import { CatalogIdPipe } from './catalog-id-param';
import { CatalogReloadService } from './catalog-reload.service';
import {
  CatalogAppDto,
  CatalogPage,
  CatalogQuery,
  CatalogReloadResultDto,
  CategoryListDto,
} from './catalog.dto';
import { CatalogService } from './catalog.service';

@ApiTags('catalog')
@Controller('api/catalog')
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly reloader: CatalogReloadService,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Search the catalog, sorted by name' })
  @ApiOkResponse({ type: CatalogPage })
  @ApiErrors(400)
  list(@Query() query: CatalogQuery): Page<CatalogAppDto> {
    const page = this.catalog.list({ search: query.search, category: query.category }, query);
    return { ...page, items: page.items.map((app) => CatalogAppDto.from(app)) };
  }

  @Get('categories')
  @Public()
  @ApiOperation({ summary: 'Categories with the number of apps in each (unpaginated)' })
  @ApiOkResponse({ type: CategoryListDto })
  categories(): CategoryListDto {
    return CategoryListDto.from(this.catalog.categories());
  }

  @Get(':id')
  @Public()
  @ApiOperation({ summary: 'One catalog app' })
  @ApiParam({
    name: 'id',
    schema: { type: 'string', pattern: CATALOG_ID_PATTERN.source },
    example: 'uptime-kuma',
  })
  @ApiOkResponse({ type: CatalogAppDto })
  @ApiErrors(400, 404)
  get(@Param('id', CatalogIdPipe) id: string): CatalogAppDto {
    return CatalogAppDto.from(this.catalog.get(id));
  }

  @Post('reload')
  @AdminOnly()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Reload the catalog from disk on every replica',
    description:
      'Concurrent calls share one load. At most one reload per 10 seconds (429 with ' +
      'Retry-After). Invalid files are skipped and reported; the valid apps are served.',
  })
  @ApiOkResponse({ type: CatalogReloadResultDto })
  @ApiErrors(429, 503)
  async reload(@CurrentActor() actor: Actor): Promise<CatalogReloadResultDto> {
    return CatalogReloadResultDto.from(await this.reloader.reload(actor));
  }
}
