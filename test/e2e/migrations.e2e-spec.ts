import { MikroORM } from '@mikro-orm/postgresql';
import { startFreshApp, type TestApp } from '../support/test-app';

describe('migrations', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startFreshApp();
  });
  afterAll(() => t?.close());

  it('leave the schema exactly as the entities describe it', async () => {
    const diff = await t.app.get(MikroORM).schema.getUpdateSchemaSQL({ wrap: false });
    expect(diff.trim()).toBe('');
  });

  it('are all applied', async () => {
    const pending = await t.app.get(MikroORM).migrator.getPendingMigrations();
    expect(pending).toEqual([]);
  });
});
