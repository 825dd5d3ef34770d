import { Module } from '@nestjs/common';
import { CatalogController } from './catalog.controller';
import { CatalogLoader } from './catalog.loader';
import { CatalogReloadService } from './catalog-reload.service';
import { CatalogService } from './catalog.service';
import { CatalogStore } from './catalog.store';

/**
 * The app catalog: loaded from CATALOG_DIR at start, reloaded on demand on
 * every replica. Other modules use CatalogService.find() and the pure
 * renderDeployment()/generateSecrets() functions.
 */
@Module({
  controllers: [CatalogController],
  providers: [CatalogLoader, CatalogStore, CatalogService, CatalogReloadService],
  exports: [CatalogService],
})
export class CatalogModule {}
