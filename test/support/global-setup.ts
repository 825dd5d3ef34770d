import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { databaseUrl, dropRunDatabases, templateDatabase } from './databases';

/**
 * Builds the migrated template database once per run, through the real CLI.
 * It runs in a child process: MikroORM metadata created here would leak
 * into the test realm of an in-band run and break it.
 */
export default async function globalSetup(): Promise<void> {
  // Workers are forked after this runs and inherit the variable.
  process.env.PROXIMITY_TEST_RUN = `${process.pid}`;
  await dropRunDatabases();
  execFileSync(process.execPath, ['-r', '@swc-node/register', 'src/cli.ts', 'migrate'], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl(templateDatabase()),
      JWT_SECRET: randomBytes(32).toString('hex'),
      PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
