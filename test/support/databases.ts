import { Client } from 'pg';

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BASE_URL = ADMIN_URL.replace(/\/[^/]*$/, '');

/** Set by the global setup, so two test runs on one machine never share a database. */
export function testRunId(): string {
  return process.env.PROXIMITY_TEST_RUN ?? 'local';
}

export function templateDatabase(): string {
  return `proximity_test_${testRunId()}_template`;
}

export function databaseUrl(name: string): string {
  return `${BASE_URL}/${name}`;
}

/** This jest worker's database; `variant` gives a test file a second, independent one. */
export function workerDatabase(variant = ''): string {
  const suffix = variant ? `_${variant}` : '';
  return `proximity_test_${testRunId()}_w${process.env.JEST_WORKER_ID ?? '1'}${suffix}`;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** A fresh copy of the migrated template: each test file starts from an empty, migrated database. */
export async function recreateFromTemplate(name: string): Promise<string> {
  await withAdmin(async (client) => {
    await client.query(`drop database if exists "${name}" with (force)`);
    await client.query(`create database "${name}" template "${templateDatabase()}"`);
  });
  return databaseUrl(name);
}

/** Drops one database of this test run, so the next start has to create it. */
export async function dropDatabase(name: string): Promise<void> {
  await withAdmin((client) => client.query(`drop database if exists "${name}" with (force)`));
}

/** Drops every database of this test run. */
export async function dropRunDatabases(): Promise<void> {
  await withAdmin(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      'select datname from pg_database where datname like $1',
      [`proximity_test_${testRunId()}_%`],
    );
    for (const { datname } of rows) {
      await client.query(`drop database if exists "${datname}" with (force)`);
    }
  });
}
