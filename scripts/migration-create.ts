import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import config from '../mikro-orm.config';

/**
 * Writes a migration with the difference between the entities and the
 * database named by DATABASE_URL (migrated to the latest version first).
 * Register the new class in src/database/migrations/index.ts afterwards.
 */
async function main(): Promise<void> {
  const orm = await MikroORM.init(config);
  try {
    await orm.migrator.up();
    const result = await orm.migrator.createMigration('src/database/migrations');
    process.stdout.write(
      result.diff.up.length > 0 ? `wrote ${result.fileName}\n` : 'entities match the schema\n',
    );
  } finally {
    await orm.close(true);
  }
}

void main();
