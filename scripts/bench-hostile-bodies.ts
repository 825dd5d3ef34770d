/**
 * Measures what hostile JSON bodies cost the server: the time of one request
 * per shape, and /health/live latency while eight of them run in parallel.
 * Boots Proximity in its own process on a scratch database (PostgreSQL and
 * Redis on 127.0.0.1, as in the tests), or targets BENCH_URL when given.
 *
 *   npm run bench:bodies
 */
import 'reflect-metadata';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { loadConfig } from '../src/config/load-config';
import { migrate } from '../src/database/migrate';
import { scratchDatabaseUrl, withAdmin } from '../test/bench/scratch-database';

const DATABASE = 'proximity_bench_bodies';
const PORT = Number(process.env.BENCH_PORT ?? 3917);
const ROUNDS = 5;
const PARALLEL = 8;

const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
const SHAPES: Record<string, string> = {
  'depth 5,000': nested(5_000),
  'depth 120,000 (240 KB)': nested(120_000),
  '60,000-element array': `{"a":[${Array(60_000).fill('0').join(',')}]}`,
  'small invalid body': JSON.stringify({ username: 1 }),
};

async function timed<T>(work: () => Promise<T>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

async function post(base: string, body: string): Promise<number> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
  });
  await res.arrayBuffer();
  return res.status;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1];
const ms = (value: number) => `${value.toFixed(1)} ms`;

async function bench(base: string): Promise<void> {
  for (const [name, body] of Object.entries(SHAPES)) {
    let status = 0;
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      times.push(await timed(async () => (status = await post(base, body))));
    }
    process.stdout.write(`${name.padEnd(24)} -> ${status}  median ${ms(median(times))}\n`);
  }
  for (const name of ['depth 120,000 (240 KB)', 'small invalid body']) {
    const latencies: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      let running = true;
      const hostile = Promise.all(Array.from({ length: PARALLEL }, () => post(base, SHAPES[name])));
      void hostile.finally(() => (running = false));
      // Probe for as long as the hostile batch runs: the worst probe is the stall.
      do {
        latencies.push(
          await timed(() => fetch(`${base}/health/live`).then((r) => r.arrayBuffer())),
        );
      } while (running);
      await hostile;
    }
    process.stdout.write(
      `/health/live during ${PARALLEL} parallel "${name}": median ${ms(median(latencies))}, max ${ms(Math.max(...latencies))} (${latencies.length} probes)\n`,
    );
  }
}

async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function bootServer(): Promise<{ base: string; stop: () => Promise<void> }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: scratchDatabaseUrl(DATABASE),
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: `proximity-bench-${randomBytes(4).toString('hex')}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROXIMITY_ADMIN_USERNAME: 'admin',
    PROXIMITY_ADMIN_PASSWORD: randomBytes(15).toString('base64url'),
    PORT: String(PORT),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
  };
  await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
  await withAdmin(`create database "${DATABASE}"`);
  await migrate(loadConfig(env));
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '..', 'src', 'main.ts')],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const base = `http://127.0.0.1:${PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${base}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('server did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    base,
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      await withAdmin(`drop database if exists "${DATABASE}"`);
      await deleteKeys(env.REDIS_URL!, env.REDIS_PREFIX!);
    },
  };
}

async function main(): Promise<void> {
  if (process.env.BENCH_URL) return bench(process.env.BENCH_URL);
  const server = await bootServer();
  try {
    await bench(server.base);
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
