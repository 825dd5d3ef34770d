/**
 * `npm run bench:api`: what `GET /api/apps?perPage=50` costs with 10,000
 * applications, against what its own SQL costs through a bare `pg` pool.
 *
 * Seeds a scratch database (one application through the allocator, the rest
 * copied from it in SQL), records the statements one list request issues
 * (auth included) in an in-process app, then loads a server started in its
 * own process with CONCURRENCY keep-alive connections, and replays those
 * statements through `pg` at the same concurrency and pool size. Prints
 * figures, and the server's CPU time per request, which a busy machine
 * disturbs less than req/s; asserts nothing. Drops its database and Redis
 * keys at the end. BENCH_APPLICATIONS, BENCH_PER_PAGE, BENCH_DURATION_MS,
 * BENCH_DB_POOL change the set-up; BENCH_SHOW_SQL prints the statements.
 */
import 'reflect-metadata';
import { EntityManager } from '@mikro-orm/postgresql';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { Pool } from 'pg';
import { Pool as HttpPool } from 'undici';
import { createApp } from '../../src/app.factory';
import { ApplicationAllocator } from '../../src/applications/allocation/application-allocator';
import { loadConfig } from '../../src/config/load-config';
import { migrate } from '../../src/database/migrate';
import { scratchDatabaseUrl, withAdmin } from './scratch-database';

const APPLICATIONS = Number(process.env.BENCH_APPLICATIONS ?? 10_000);
const OWNERS = 10;
const CONCURRENCY = 32;
const PER_PAGE = Number(process.env.BENCH_PER_PAGE ?? 50);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const WARMUP_MS = 1000;
/** The database pool of the server and of the bare client alike (the server's default). */
const DB_POOL = Number(process.env.BENCH_DB_POOL ?? 10);
const PORT = Number(process.env.BENCH_PORT ?? 3918);
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const DATABASE = `proximity_bench_api_${randomBytes(3).toString('hex')}`;
const LIST_PATH = `/api/apps?perPage=${PER_PAGE}`;

interface Caller {
  label: string;
  token: string;
  /** Every statement one list request issued, parameters inlined as the ORM sends them. */
  statements: string[];
}

interface Figures {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** CPU time of the measured process per request, when one is given. */
  cpuPerRequest?: number;
}

function benchEnvironment(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    DATABASE_URL: scratchDatabaseUrl(DATABASE),
    DATABASE_POOL_MAX: String(DB_POOL),
    REDIS_URL,
    REDIS_PREFIX: `proximity-bench-api-${randomBytes(4).toString('hex')}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROXIMITY_ADMIN_USERNAME: 'admin',
    PROXIMITY_ADMIN_PASSWORD: randomBytes(15).toString('base64url'),
    PORT: String(PORT),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'error',
    // One process serves; nothing here needs the queue workers.
    PROXIMITY_ROLE: 'api',
  };
}

async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
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

async function call<T>(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}

const login = (base: string, username: string, password: string) =>
  call<{ accessToken: string; user: { id: string } }>(base, 'POST', '/api/auth/login', null, {
    username,
    password,
  });

/**
 * Copies the one allocated application (with its ports and operation) into
 * APPLICATIONS rows, spread over the owners, with distinct hostnames, VMIDs
 * and ports; every tenth has an active operation, as a busy installation would.
 */
async function copyApplications(em: EntityManager, ownerIds: string[]): Promise<void> {
  const sql = em.getConnection();
  const owners = `array[${ownerIds.map((id) => `'${id}'::uuid`).join(',')}]`;
  await sql.execute(`
    create temporary table seed as
    select gen_random_uuid() as id, i,
           (${owners})[1 + i % ${ownerIds.length}] as owner_id,
           now() - make_interval(secs => i) as at
    from generate_series(1, ${APPLICATIONS - 1}) as i`);
  await sql.execute(`
    insert into application (id, owner_id, host_id, node, vmid, hostname, name, catalog_id,
      status, cores, memory_mb, disk_gb, swap_mb, environment, secret_environment,
      secret_environment_keys, root_password, ip_address, url, adopted, last_error, version,
      created_at, updated_at)
    select s.id, s.owner_id, a.host_id, a.node, a.vmid + s.i, 'app-' || s.i, 'App ' || s.i,
      a.catalog_id, 'running', a.cores, a.memory_mb, a.disk_gb, a.swap_mb, a.environment,
      a.secret_environment, a.secret_environment_keys, a.root_password, '10.0.0.1',
      'http://pve.invalid:' || (20000 + s.i), false, null, 1, s.at, s.at
    from seed s cross join application a`);
  await sql.execute(`
    insert into port_allocation (id, host_id, port, protocol, application_id, name,
      container_port, state, created_at)
    select gen_random_uuid(), p.host_id, p.port + s.i, p.protocol, s.id, p.name,
      p.container_port, 'forwarded', s.at
    from seed s cross join port_allocation p`);
  await sql.execute(`
    insert into operation (id, type, status, progress, attempts, max_attempts,
      application_id, actor_id, created_at, started_at, finished_at, updated_at)
    select gen_random_uuid(), 'deploy', 'succeeded', 100, 1, 3, s.id, s.owner_id,
      s.at, s.at, s.at, s.at
    from seed s`);
  await sql.execute(`
    insert into operation (id, type, status, progress, attempts, max_attempts,
      application_id, actor_id, created_at, updated_at)
    select gen_random_uuid(), 'restart', 'queued', 0, 0, 3, s.id, s.owner_id, now(), now()
    from seed s where s.i % 10 = 0`);
  // As autovacuum leaves a table soon after such inserts: without the visibility
  // map the admin's count(*) reads every heap page instead of an index.
  await sql.execute('vacuum analyze');
}

/** Seeds through an in-process app and records the SQL of one list request per caller. */
async function seedAndRecord(env: NodeJS.ProcessEnv): Promise<Caller[]> {
  const config = loadConfig(env);
  const app = await createApp(config);
  try {
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const admin = await login(base, 'admin', env.PROXIMITY_ADMIN_PASSWORD ?? '');
    const owners: { id: string; token: string }[] = [];
    for (let i = 0; i < OWNERS; i += 1) {
      const password = randomBytes(12).toString('base64url');
      await call(base, 'POST', '/api/users', admin.accessToken, {
        username: `owner${i}`,
        password,
        role: 'user',
      });
      const session = await login(base, `owner${i}`, password);
      owners.push({ id: session.user.id, token: session.accessToken });
    }
    const host = await call<{ id: string }>(base, 'POST', '/api/proxmox/hosts', admin.accessToken, {
      name: 'bench',
      host: 'pve.invalid',
      tokenId: 'root@pam!proximity',
      tokenSecret: randomUUID(),
      tlsInsecure: true,
      sshPassword: randomBytes(12).toString('hex'),
      sshInsecure: true,
      vmidMin: 100_000,
      vmidMax: 100_000 + APPLICATIONS * 2,
      portMin: 20_000,
      portMax: 20_000 + APPLICATIONS * 2,
    });
    await app.get(ApplicationAllocator).allocate({
      ownerId: owners[0].id,
      actorId: owners[0].id,
      hostId: host.id,
      node: 'pve1',
      catalogId: 'whoami',
      name: 'App 0',
      hostname: 'app-0',
      resources: { cores: 1, memoryMb: 512, diskGb: 4, swapMb: 0 },
      environment: { GREETING: 'hello' },
      secretEnvironment: { API_KEY: randomBytes(12).toString('hex') },
      ports: [
        { name: 'http', containerPort: 80, protocol: 'tcp' },
        { name: 'dns', containerPort: 53, protocol: 'udp' },
      ],
      rootPassword: randomBytes(12).toString('hex'),
      clusterVmids: [],
    });
    const em = app.get(EntityManager);
    await copyApplications(
      em,
      owners.map((owner) => owner.id),
    );

    const recorded: string[] = [];
    em.getConnection()
      .getKnex()
      .on('query', (query: { sql: string }) => recorded.push(query.sql));
    const callers: Caller[] = [];
    for (const [label, token] of [
      ['admin (sees all)', admin.accessToken],
      [`user (owns ${APPLICATIONS / OWNERS})`, owners[1].token],
    ]) {
      recorded.length = 0;
      const page = await call<{ items: unknown[]; total: number }>(base, 'GET', LIST_PATH, token);
      if (page.items.length !== PER_PAGE) throw new Error(`${label}: a short page`);
      callers.push({ label: `${label}, total ${page.total}`, token, statements: [...recorded] });
    }
    return callers;
  } finally {
    await app.close();
  }
}

async function startServer(env: NodeJS.ProcessEnv): Promise<{ base: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['-r', '@swc-node/register', join(__dirname, '..', '..', 'src', 'main.ts')],
    { env, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const base = `http://127.0.0.1:${PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const up = await fetch(`${base}/health/live`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) return { base, child };
    if (child.exitCode !== null || Date.now() > deadline) throw new Error('server did not start');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** User plus system CPU time a process has used, in ms (Linux). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 10 ms.
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CONCURRENCY loops of `once` for WARMUP_MS (discarded), then DURATION_MS (measured). */
async function load(once: () => Promise<void>, pid?: number): Promise<Figures> {
  const run = async (ms: number): Promise<number[]> => {
    const latencies: number[] = [];
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < end) {
          const start = performance.now();
          await once();
          latencies.push(performance.now() - start);
        }
      }),
    );
    return latencies;
  };
  await run(WARMUP_MS);
  const started = performance.now();
  const cpuBefore = pid === undefined ? 0 : cpuMs(pid);
  const latencies = await run(DURATION_MS);
  const elapsed = performance.now() - started;
  const cpu = pid === undefined ? undefined : cpuMs(pid) - cpuBefore;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    requests: latencies.length,
    perSecond: (latencies.length * 1000) / elapsed,
    p50: at(0.5),
    p99: at(0.99),
    cpuPerRequest: cpu === undefined ? undefined : cpu / latencies.length,
  };
}

function httpOnce(http: HttpPool, token: string): () => Promise<void> {
  return async () => {
    const res = await http.request({
      method: 'GET',
      path: LIST_PATH,
      headers: { authorization: `Bearer ${token}` },
    });
    await res.body.arrayBuffer();
    if (res.statusCode !== 200) throw new Error(`the list answered ${res.statusCode}`);
  };
}

function sqlOnce(pool: Pool, statements: string[]): () => Promise<void> {
  return async () => {
    // One after the other, each on a connection of the pool, as the ORM issues them.
    for (const statement of statements) await pool.query(statement);
  };
}

const line = (label: string, f: Figures) =>
  `  ${label.padEnd(10)} ${f.perSecond.toFixed(0).padStart(6)} req/s   p50 ${f.p50.toFixed(1).padStart(6)} ms   p99 ${f.p99.toFixed(1).padStart(6)} ms   (${f.requests} requests)\n`;

async function main(): Promise<void> {
  const env = benchEnvironment();
  await withAdmin(`create database "${DATABASE}"`);
  let server: ChildProcess | null = null;
  try {
    const seeding = performance.now();
    await migrate(loadConfig(env));
    const callers = await seedAndRecord(env);
    process.stdout.write(
      `seeded ${APPLICATIONS} applications in ${((performance.now() - seeding) / 1000).toFixed(1)} s; ` +
        `GET ${LIST_PATH}, ${CONCURRENCY} connections, database pool ${DB_POOL}, ${DURATION_MS} ms per run\n`,
    );
    const started = await startServer(env);
    server = started.child;
    const http = new HttpPool(started.base, { connections: CONCURRENCY, pipelining: 1 });
    const pool = new Pool({ connectionString: env.DATABASE_URL, max: DB_POOL });
    try {
      for (const caller of callers) {
        const api = await load(httpOnce(http, caller.token), started.child.pid);
        const sql = await load(sqlOnce(pool, caller.statements));
        process.stdout.write(
          `${caller.label}; ${caller.statements.length} statements per request\n`,
        );
        process.stdout.write(line('api', api));
        // On a busy machine req/s swings; the server's CPU time per request does not.
        process.stdout.write(`  server CPU ${api.cpuPerRequest?.toFixed(2)} ms per request\n`);
        process.stdout.write(line('bare pg', sql));
        process.stdout.write(
          `  ratio api/pg ${(api.perSecond / sql.perSecond).toFixed(2)} (target >= 0.5)\n`,
        );
      }
      if (process.env.BENCH_SHOW_SQL) {
        for (const statement of callers[0].statements) process.stdout.write(`${statement}\n`);
      }
    } finally {
      await http.close();
      await pool.end();
    }
  } finally {
    if (server) await stopServer(server);
    await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
    await deleteRedisKeys(env.REDIS_PREFIX ?? '');
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
