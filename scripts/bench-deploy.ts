/**
 * Deploys against the Proxmox VE simulator with a fixed task latency: one
 * deployment alone, then DEPLOYS at once. Prints the total time, p50/p95 per
 * deployment (request to running) and the ratio of the total to the ideal
 * that the single deployment's time and the worker concurrency set
 * (ceil(DEPLOYS / concurrency) × single). Proximity and the simulator run in
 * this process, on a scratch database (PostgreSQL and Redis on 127.0.0.1).
 *
 *   npm run bench:deploy
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { Client } from 'pg';
import { createApp } from '../src/app.factory';
import { loadConfig } from '../src/config/load-config';
import { migrate } from '../src/database/migrate';
import { startSimulator } from '../test/pve-simulator';
import { percentile, scratchDatabaseUrl, withAdmin } from '../test/bench/scratch-database';

const DATABASE = 'proximity_bench_deploy';
const DEPLOYS = Number(process.env.BENCH_DEPLOYS ?? 100);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const TASK_MS = Number(process.env.BENCH_TASK_MS ?? 200);
const PASSWORD = randomBytes(15).toString('base64url');
const POLL_MS = 100;

async function call<T>(base: string, method: string, path: string, token?: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Deploys `count` apps at once; the time from each request until it shows
 * running. One observer lists them every POLL_MS (a request per app and tick
 * would be 1,000 requests a second at 100 deploys, load of the bench's own).
 */
async function deployAll(base: string, token: string, prefix: string, count: number) {
  const started = performance.now();
  const requested = new Map<string, number>();
  const times: number[] = [];
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const t0 = performance.now();
      const res = await call<{ id: string }>(base, 'POST', '/api/apps', token, {
        catalogId: 'whoami',
        hostname: `${prefix}-${i}`,
        resources: { memoryMb: 128 },
      });
      if (res.status !== 202) throw new Error(`deploy answered ${res.status}`);
      requested.set(res.body.id, t0);
    }),
  );
  while (requested.size > 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    for (let page = 1; page <= Math.ceil(count / 100); page += 1) {
      const list = await call<{ items: { id: string; status: string }[] }>(
        base,
        'GET',
        `/api/apps?search=${prefix}-&perPage=100&page=${page}`,
        token,
      );
      for (const app of list.body.items) {
        const t0 = requested.get(app.id);
        if (t0 === undefined || app.status === 'deploying') continue;
        if (app.status !== 'running') throw new Error(`a deploy ended ${app.status}`);
        times.push(performance.now() - t0);
        requested.delete(app.id);
      }
    }
  }
  return { total: performance.now() - started, times };
}

/** Where a deployment's time went, from its operation and step log: the mean per phase. */
async function breakdown(databaseUrl: string, prefix: string): Promise<string> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ phase: string; ms: number }>(
      `with done as (
         select o.id, o.created_at, o.started_at, l.step, l.at,
                lag(l.at) over (partition by o.id order by l.at, l.id) as previous
         from operation o
         join application a on a.id = o.application_id
         join deployment_log l on l.operation_id = o.id and l.message like '%done'
         where a.hostname like $1)
       select phase, round(avg(ms))::int as ms, min(first) as first from (
         select id, 'queued' as phase, extract(epoch from started_at - created_at) * 1000 as ms,
                0 as first
         from (select distinct id, created_at, started_at from done) q
         union all
         select id, step, extract(epoch from at - coalesce(previous, started_at)) * 1000,
                extract(epoch from at) from done) p
       group by phase order by min(first)`,
      [`${prefix}-%`],
    );
    return rows.map((r) => `${r.phase} ${r.ms} ms`).join(', ');
  } finally {
    await client.end();
  }
}

async function main(): Promise<void> {
  const prefix = `proximity-bench-${randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    DATABASE_URL: scratchDatabaseUrl(DATABASE),
    DATABASE_POOL_MAX: '20',
    REDIS_URL: process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_PREFIX: prefix,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROXIMITY_ADMIN_USERNAME: 'admin',
    PROXIMITY_ADMIN_PASSWORD: PASSWORD,
    DEPLOY_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: 'error',
  };
  await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
  await withAdmin(`create database "${DATABASE}"`);
  const config = loadConfig(env);
  await migrate(config);
  const sim = await startSimulator({ latency: { taskMs: TASK_MS, dhcpLeaseMs: 100 }, seed: 7 });
  const app = await createApp(config);
  await app.listen(0, '127.0.0.1');
  const base = await app.getUrl();
  try {
    const login = await call<{ accessToken: string }>(base, 'POST', '/api/auth/login', undefined, {
      username: 'admin',
      password: PASSWORD,
    });
    const token = login.body.accessToken;
    await call(base, 'PUT', '/api/settings', token, {
      defaults: { cores: 1, memoryMb: 128, diskGb: 4, swapMb: 0 },
      limits: { maxCores: 8, maxMemoryMb: 16384, maxDiskGb: 200, maxAppsPerUser: DEPLOYS + 10 },
      network: { ipMode: 'dhcp', dns: [] },
    });
    const host = await call(base, 'POST', '/api/proxmox/hosts', token, {
      name: 'bench',
      host: '127.0.0.1',
      port: sim.port,
      tokenId: sim.tokenId,
      tokenSecret: sim.tokenSecret,
      tlsFingerprint: sim.tlsFingerprint,
      sshPort: sim.sshPort,
      sshPassword: sim.sshPassword,
      sshHostKeyFingerprint: sim.sshHostKeyFingerprint,
      vmidMin: 1000,
      vmidMax: 9999,
      portMin: 30_000,
      portMax: 32_000,
      isDefault: true,
    });
    if (host.status !== 201) throw new Error(`registering the simulator answered ${host.status}`);

    const single = (await deployAll(base, token, 'single', 1)).total;
    const { total, times } = await deployAll(base, token, 'many', DEPLOYS);
    const ideal = Math.ceil(DEPLOYS / CONCURRENCY) * single;
    process.stdout.write(
      [
        `task latency ${TASK_MS} ms, worker concurrency ${CONCURRENCY}`,
        `one deployment alone: ${seconds(single)}`,
        `${DEPLOYS} at once: total ${seconds(total)}, p50 ${seconds(percentile(times, 0.5))}, p95 ${seconds(percentile(times, 0.95))}`,
        `ideal ${seconds(ideal)}; total / ideal = ${(total / ideal).toFixed(2)} (target <= 1.2)`,
        `mean per phase, alone: ${await breakdown(env.DATABASE_URL!, 'single')}`,
        `mean per phase, ${DEPLOYS} at once: ${await breakdown(env.DATABASE_URL!, 'many')}`,
        '',
      ].join('\n'),
    );
  } finally {
    await app.close();
    await sim.stop();
    await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
    const redis = new Redis(env.REDIS_URL!);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
