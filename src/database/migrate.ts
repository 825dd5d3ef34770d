import { MikroORM } from '@mikro-orm/postgresql';
import type { AppConfig } from '../config/app-config';
import { buildOrmOptions } from './orm-options';

/** Creates the database when missing and applies every pending migration; returns their names. */
export async function migrate(config: AppConfig): Promise<string[]> {
  const orm = await MikroORM.init({
    ...buildOrmOptions(config.database),
    pool: { min: 0, max: 2 },
  });
  try {
    await orm.schema.ensureDatabase();
    const applied = await orm.migrator.up();
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
  }
}
