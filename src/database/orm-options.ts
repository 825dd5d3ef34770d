import { ReflectMetadataProvider } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import type { DatabaseConfig } from '../config/app-config';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

export function buildOrmOptions(db: DatabaseConfig): Options {
  return defineConfig({
    clientUrl: db.url,
    entities: ENTITIES,
    metadataProvider: ReflectMetadataProvider,
    discovery: { warnWhenNoEntities: true },
    pool: { min: db.poolMin, max: db.poolMax, idleTimeoutMillis: db.idleTimeoutMs },
    driverOptions: {
      connection: {
        statement_timeout: db.statementTimeoutMs,
        application_name: 'proximity',
      },
    },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: MIGRATIONS,
      pathTs: 'src/database/migrations',
      transactional: true,
      allOrNothing: true,
      snapshot: false,
    },
    ignoreUndefinedInQuery: true,
    debug: false,
    // The migrator reports progress on stdout; colour codes only where a terminal renders them.
    colors: process.stdout.isTTY === true,
  });
}
