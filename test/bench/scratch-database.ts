import { Client } from 'pg';

/** The server's maintenance database, from which a benchmark creates and drops its own. */
export const BENCH_ADMIN_URL =
  process.env.BENCH_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One statement on the maintenance database (create or drop a scratch database). */
export async function withAdmin(sql: string): Promise<void> {
  const client = new Client({ connectionString: BENCH_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** The URL of a scratch database on the same server. */
export const scratchDatabaseUrl = (database: string): string =>
  BENCH_ADMIN_URL.replace(/\/[^/]*$/, `/${database}`);

/** The value below which a share `p` (0..1) of `values` falls; NaN for none. */
export const percentile = (values: number[], p: number): number =>
  values.length === 0
    ? NaN
    : [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))];
