import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { sleep } from '../../src/common/time/poll';
import { loadConfig } from '../../src/config/load-config';
import { requestReconcile } from '../../src/maintenance/reconcile-command';
import type { ReconcileSummary } from '../../src/maintenance/reconciler';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { freePort } from '../support/free-port';
import { simulatorHostBody } from '../support/hosts';
import { spawnEntry, waitFor, type Spawned } from '../support/spawn-app';
import { type EndState, readEndState } from './end-state';
import { databaseOutage, type OutageVerdict, OwnRedis, ReadinessWatch } from './outages';
import { type AppView, SoakClient, TRANSITIONAL } from './soak-client';

export interface SoakOptions {
  deploys: number;
  users: number;
  /** Proxmox task latency of the simulator. */
  taskMs: number;
  /** Seed of the simulator's random faults. */
  seed: number;
  /** A database of its own, migrated and empty. */
  database: string;
  /** A connection to another database of the same server, to cut this one off. */
  adminUrl: string;
  vmidMin: number;
  /** Public port pool of the host every user deploys to. */
  ports: [number, number];
  /** The tiny pool of a second host, driven to exhaustion. */
  tinyPorts: [number, number];
  /** Deployments asked of the tiny host beyond its pool. */
  tinyExtra: number;
  outageMs: number;
  /** Pause between two disruptions, so that work runs through each. */
  gapMs: number;
  /**
   * Bound on all the waits for the work to settle together, from the start
   * of the load: a hang ends in an end state that shows it, not in a wait.
   */
  settleMs: number;
  /** Deadline of every operation type. */
  deadlineSeconds: number;
  log: (line: string) => void;
}

export interface SoakFigures {
  deploys: { requested: number; accepted: number; refused: number; timesMs: number[] };
  tiny: { requested: number; accepted: number; refused: number; badRefusals: number };
  actions: { requested: number; accepted: number };
  clones: { requested: number; accepted: number };
  backups: { requested: number; accepted: number; completed: number; failed: number };
  /** Answers to every write request, by status (0: the request failed). */
  writeStatuses: Record<number, number>;
  faultsFired: number;
  retries: number;
  failedOperations: number;
  outages: OutageVerdict[];
  workerRestartMs: number;
  readinessTransitions: number;
  reconcile: ReconcileSummary | null;
  endState: EndState;
  /** Applications that ended in error, by their last error. */
  errors: Record<string, number>;
  /** Applications in error that still hold a VMID (a cleanup that failed keeps it reserved). */
  errorsHoldingVmid: number;
  totalMs: number;
}

const ADMIN = 'admin';
const PASSWORD = randomBytes(15).toString('base64url');
const POLL_MS = 500;

/** Random faults on the Proxmox side: failed tasks, HTTP 500s, dropped connections, SSH failures. */
const FAULTS = [
  { method: 'POST', path: '/lxc$', failTask: 'simulated create failure', probability: 0.1 },
  {
    method: 'POST',
    path: '/status/(start|stop|shutdown|reboot)$',
    failTask: true,
    probability: 0.1,
  },
  { method: 'POST', path: '/clone$', failTask: true, probability: 0.1 },
  { method: 'POST', path: '/vzdump$', failTask: true, probability: 0.1 },
  { method: 'GET', path: '/status/current$', status: 500, message: 'simulated', probability: 0.1 },
  { method: 'GET', path: '/tasks/[^/]+/status$', dropConnection: true, probability: 0.05 },
  { sshCommand: 'docker', status: 1, message: 'simulated ssh failure', probability: 0.1 },
];

const share = (total: number, parts: number, index: number) =>
  Math.floor(total / parts) + (index < total % parts ? 1 : 0);

/**
 * The load-and-fault soak: `deploys` deployments with lifecycle actions,
 * clones and backups from `users` users at once against the simulator with
 * random faults, while a worker is killed, Redis is restarted and the
 * database is cut off once each, and a small host's port pool runs out. The
 * API and two workers run as real processes. Returns the figures and the end
 * state; judging them is the caller's part.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakFigures> {
  const begin = performance.now();
  const redis = new OwnRedis(await freePort());
  await redis.start();
  const main = await SimulatorFixture.start({
    seed: opts.seed,
    latency: { taskMs: opts.taskMs, dhcpLeaseMs: Math.min(opts.taskMs, 1000) },
  });
  const tiny = await SimulatorFixture.start({ latency: { taskMs: opts.taskMs, dhcpLeaseMs: 100 } });
  const deadline = String(opts.deadlineSeconds);
  const env: NodeJS.ProcessEnv = {
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    DATABASE_URL: opts.adminUrl.replace(/\/[^/]*$/, `/${opts.database}`),
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '10',
    REDIS_URL: redis.url,
    REDIS_PREFIX: 'soak',
    JWT_SECRET: randomBytes(32).toString('hex'),
    PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROXIMITY_ADMIN_USERNAME: ADMIN,
    PROXIMITY_ADMIN_PASSWORD: PASSWORD,
    LOG_LEVEL: 'error',
    // A killed worker's jobs go to the other one within seconds, not Bull's 30 s.
    JOB_LOCK_MS: '4000',
    JOB_STALLED_CHECK_MS: '1000',
    PROXMOX_TASK_POLL_MS: '250',
    DEPLOY_DEADLINE_SECONDS: deadline,
    ACTION_DEADLINE_SECONDS: deadline,
    BACKUP_DEADLINE_SECONDS: deadline,
    RESTORE_DEADLINE_SECONDS: deadline,
    // Jobs lost with the Redis restart come back within the run, not after 5 minutes.
    OPERATION_REQUEUE_GRACE_SECONDS: '15',
  };
  const apiPort = await freePort();
  const base = `http://127.0.0.1:${apiPort}`;
  const worker = () => spawnEntry('src/main.ts', { ...env, PROXIMITY_ROLE: 'worker', PORT: '0' });
  const processes: Spawned[] = [
    spawnEntry('src/main.ts', { ...env, PROXIMITY_ROLE: 'api', PORT: String(apiPort) }),
    worker(),
    worker(),
  ];
  const readiness = new ReadinessWatch(`${base}/health/ready`);
  const db = new Client({ connectionString: env.DATABASE_URL });
  const statuses = new Map<number, number>();
  try {
    await started(base, processes);
    readiness.start();
    const anonymous = new SoakClient(base, null, statuses);
    const admin = anonymous.withToken(await login(anonymous, ADMIN, PASSWORD));
    await admin.send('PUT', '/api/settings', {
      defaults: { cores: 1, memoryMb: 128, diskGb: 4, swapMb: 0 },
      limits: { maxCores: 8, maxMemoryMb: 16384, maxDiskGb: 200, maxAppsPerUser: 1000 },
      network: { ipMode: 'dhcp', dns: [] },
    });
    await registerHost(admin, main, 'soak-main', opts.vmidMin, opts.ports, true);
    const tinyHost = await registerHost(
      admin,
      tiny,
      'soak-tiny',
      opts.vmidMin + 500,
      opts.tinyPorts,
      false,
    );
    const users = await Promise.all(
      Array.from({ length: opts.users }, (_, u) => createUser(admin, anonymous, u)),
    );
    opts.log(`processes up, ${opts.users} users signed in`);

    const tinyFigures = await exhaustTiny(admin, tinyHost, opts);
    opts.log(`tiny host: ${tinyFigures.accepted} accepted, ${tinyFigures.refused} refused`);
    const faults = await main.control('POST', '/_sim/faults', { rules: FAULTS });
    if (faults.status !== 201) throw new Error(`fault rules answered ${faults.status}`);

    const figures = newLoadFigures();
    const settleBy = Date.now() + opts.settleMs;
    const load = Promise.all(
      users.map((user, u) =>
        userLoad(user, u, share(opts.deploys, opts.users, u), settleBy, figures),
      ),
    );
    const disruptions = disrupt(processes, worker, redis, readiness, opts);
    const [, outages] = await Promise.all([load, disruptions]);
    opts.log('load done');

    const fired = (await main.control('GET', '/_sim/faults')).body as {
      rules: { fired: number }[];
    };
    await main.control('DELETE', '/_sim/faults');
    await db.connect();
    const config = loadConfig(env);
    await quiesce(db, opts, settleBy, () => requestReconcile(config, 60_000));
    // The pass the schedule would run next: what it cleans up is part of the figures.
    const reconcile = await requestReconcile(config, 120_000).catch(() => null);
    await quiesce(db, opts, settleBy, () => requestReconcile(config, 60_000));
    await readiness.stop();

    const endState = await readEndState(
      db,
      [
        { hostId: await hostIdOf(db, 'soak-main'), state: await main.state() },
        { hostId: tinyHost, state: await tiny.state() },
      ],
      opts.deadlineSeconds,
    );
    const ops = (
      await db.query<{ retries: string; failed: string }>(
        `select coalesce(sum(greatest(attempts - 1, 0)), 0) as retries,
                count(*) filter (where status = 'failed') as failed from operation`,
      )
    ).rows[0];
    const backups = (
      await db.query<{ completed: string; failed: string }>(
        `select count(*) filter (where status = 'completed') as completed,
                count(*) filter (where status = 'failed') as failed from backup`,
      )
    ).rows[0];
    const errors = (
      await db.query<{ reason: string; n: string }>(
        `select coalesce(last_error, '') as reason, count(*) as n from application
         where status = 'error' group by 1`,
      )
    ).rows;
    const holding = (
      await db.query<{ n: string }>(
        `select count(*) as n from application where status = 'error' and vmid is not null`,
      )
    ).rows[0];
    return {
      deploys: figures.deploys,
      tiny: tinyFigures,
      actions: figures.actions,
      clones: figures.clones,
      backups: {
        ...figures.backups,
        completed: Number(backups.completed),
        failed: Number(backups.failed),
      },
      writeStatuses: Object.fromEntries(statuses),
      faultsFired: fired.rules.reduce((sum, r) => sum + r.fired, 0),
      retries: Number(ops.retries),
      failedOperations: Number(ops.failed),
      outages: outages.verdicts,
      workerRestartMs: outages.workerRestartMs,
      readinessTransitions: readiness.transitions(),
      reconcile,
      endState,
      errors: Object.fromEntries(errors.map((r) => [r.reason, Number(r.n)])),
      errorsHoldingVmid: Number(holding.n),
      totalMs: performance.now() - begin,
    };
  } finally {
    await readiness.stop();
    await db.end().catch(() => undefined);
    for (const p of processes) p.child.kill('SIGKILL');
    await Promise.all(processes.map((p) => p.exited));
    await redis.stop();
    await main.close();
    await tiny.close();
  }
}

/** Waits for the API to be ready; a process that exits first fails it with what it printed. */
async function started(base: string, processes: Spawned[]): Promise<void> {
  const exited = processes.map((p) =>
    p.exited.then(() => {
      throw new Error(`a process exited at start:\n${p.stdout()}${p.stderr()}`.slice(0, 4000));
    }),
  );
  await Promise.race([
    waitFor(async () => (await fetch(`${base}/health/ready`)).status === 200, 120_000, 500),
    ...exited,
  ]);
  // Exits after the start are the soak's own doing.
  for (const p of exited) p.catch(() => undefined);
}

async function login(client: SoakClient, username: string, password: string): Promise<string> {
  const res = await client.send<{ accessToken: string }>('POST', '/api/auth/login', {
    username,
    password,
  });
  if (res.status !== 200) throw new Error(`login of ${username} answered ${res.status}`);
  return res.body.accessToken;
}

async function createUser(admin: SoakClient, anonymous: SoakClient, u: number) {
  const username = `soak-user-${u}`;
  const password = randomBytes(12).toString('base64url');
  const res = await admin.send('POST', '/api/users', { username, password, role: 'user' });
  if (res.status !== 201) throw new Error(`creating ${username} answered ${res.status}`);
  return anonymous.withToken(await login(anonymous, username, password));
}

async function registerHost(
  admin: SoakClient,
  sim: SimulatorFixture,
  name: string,
  vmidMin: number,
  [portMin, portMax]: [number, number],
  isDefault: boolean,
): Promise<string> {
  const res = await admin.send<{ id: string }>('POST', '/api/proxmox/hosts', {
    ...simulatorHostBody(sim.sim, name, vmidMin, 500),
    portMin,
    portMax,
    isDefault,
  });
  if (res.status !== 201) throw new Error(`registering ${name} answered ${res.status}`);
  return res.body.id;
}

async function hostIdOf(db: Client, name: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('select id from proxmox_host where name = $1', [
    name,
  ]);
  return rows[0].id;
}

/**
 * More deployments at once than the tiny host has ports: the extra ones must
 * be refused in the API's error envelope with 409 or 503, nothing else.
 */
async function exhaustTiny(admin: SoakClient, hostId: string, opts: SoakOptions) {
  const requested = opts.tinyPorts[1] - opts.tinyPorts[0] + 1 + opts.tinyExtra;
  const replies = await Promise.all(
    Array.from({ length: requested }, (_, i) =>
      admin.send<{ statusCode?: number; message?: string }>('POST', '/api/apps', {
        catalogId: 'whoami',
        hostname: `soak-tiny-${i}`,
        hostId,
        resources: { memoryMb: 128 },
      }),
    ),
  );
  const refusals = replies.filter((r) => r.status !== 202);
  return {
    requested,
    accepted: replies.length - refusals.length,
    refused: refusals.length,
    badRefusals: refusals.filter(
      (r) =>
        (r.status !== 409 && r.status !== 503) ||
        r.body?.statusCode !== r.status ||
        typeof r.body.message !== 'string',
    ).length,
  };
}

function newLoadFigures() {
  return {
    deploys: { requested: 0, accepted: 0, refused: 0, timesMs: [] as number[] },
    actions: { requested: 0, accepted: 0 },
    clones: { requested: 0, accepted: 0 },
    backups: { requested: 0, accepted: 0 },
  };
}

/**
 * One user's session: its deployments one after the other, then stop or
 * restart on two thirds of those running, start on half the stopped, a clone
 * and a backup; each step waits for the previous one to settle.
 */
async function userLoad(
  client: SoakClient,
  u: number,
  count: number,
  settleBy: number,
  figures: ReturnType<typeof newLoadFigures>,
): Promise<void> {
  const requestedAt = new Map<string, number>();
  for (let i = 0; i < count; i += 1) {
    const t0 = performance.now();
    figures.deploys.requested += 1;
    const res = await client.send<{ id: string }>('POST', '/api/apps', {
      catalogId: 'whoami',
      hostname: `soak-${u}-${i}`,
      resources: { memoryMb: 128 },
    });
    if (res.status === 202) requestedAt.set(res.body.id, t0);
    else figures.deploys.refused += 1;
  }
  figures.deploys.accepted += requestedAt.size;
  const ids = new Set(requestedAt.keys());
  let apps = await settle(client, ids, settleBy, (app, at) => {
    const t0 = requestedAt.get(app.id);
    if (t0 !== undefined && app.status === 'running') figures.deploys.timesMs.push(at - t0);
    requestedAt.delete(app.id);
  });

  const running = apps.filter((a) => a.status === 'running');
  const act = async (app: AppView, action: string) => {
    figures.actions.requested += 1;
    const res = await client.send('POST', `/api/apps/${app.id}/actions`, { action });
    if (res.status === 202) figures.actions.accepted += 1;
  };
  await Promise.all(
    running
      .filter((_, i) => i % 3 !== 2)
      .map((app, i) => act(app, i % 2 === 0 ? 'stop' : 'restart')),
  );
  apps = await settle(client, ids, settleBy);
  const stopped = apps.filter((a) => a.status === 'stopped');
  await Promise.all(stopped.filter((_, i) => i % 2 === 0).map((app) => act(app, 'start')));
  apps = await settle(client, ids, settleBy);

  const [source, backedUp] = apps.filter((a) => a.status === 'running');
  if (source) {
    figures.clones.requested += 1;
    const res = await client.send<{ id: string }>('POST', `/api/apps/${source.id}/clone`, {
      hostname: `soak-${u}-clone`,
    });
    if (res.status === 202) {
      figures.clones.accepted += 1;
      ids.add(res.body.id);
    }
  }
  if (backedUp) {
    figures.backups.requested += 1;
    const res = await client.send('POST', `/api/apps/${backedUp.id}/backups`, {});
    if (res.status === 202) figures.backups.accepted += 1;
  }
  await settle(client, ids, settleBy);
}

/**
 * Polls the user's applications until none of `ids` is in a transitional
 * state, or the time `settleBy` passes; `onSettled` sees each one the first time it
 * is seen settled. The last view of them.
 */
async function settle(
  client: SoakClient,
  ids: Set<string>,
  settleBy: number,
  onSettled: (app: AppView, at: number) => void = () => undefined,
): Promise<AppView[]> {
  const seen = new Set<string>();
  let mine: AppView[] = [];
  for (;;) {
    const apps = await client.apps();
    if (apps) {
      mine = apps.filter((a) => ids.has(a.id));
      const at = performance.now();
      for (const app of mine) {
        if (TRANSITIONAL.has(app.status) || seen.has(app.id)) continue;
        seen.add(app.id);
        onSettled(app, at);
      }
      if (mine.every((a) => !TRANSITIONAL.has(a.status))) return mine;
    }
    if (Date.now() > settleBy) return mine;
    await sleep(POLL_MS);
  }
}

/**
 * The disruptions, one after the other while the load runs: a worker
 * SIGKILLed and started again, Redis killed and started again on its port,
 * the database cut off.
 */
async function disrupt(
  processes: Spawned[],
  worker: () => Spawned,
  redis: OwnRedis,
  readiness: ReadinessWatch,
  opts: SoakOptions,
): Promise<{ verdicts: OutageVerdict[]; workerRestartMs: number }> {
  await sleep(opts.gapMs);
  const killedAt = Date.now();
  processes[1].child.kill('SIGKILL');
  await processes[1].exited;
  processes[1] = worker();
  const workerRestartMs = Date.now() - killedAt;
  opts.log('worker killed and started again');

  await sleep(opts.gapMs);
  const redisDown = Date.now();
  await redis.stop();
  await sleep(opts.outageMs);
  await redis.start();
  const redisUp = Date.now();
  opts.log('redis restarted');

  await sleep(opts.gapMs);
  const dbDown = Date.now();
  await databaseOutage(opts.adminUrl, opts.database, opts.outageMs);
  const dbUp = Date.now();
  opts.log('database cut off and back');
  // Readiness has to be seen coming back after the last outage.
  await waitFor(
    () => Promise.resolve(readiness.samples.some((s) => s.at > dbUp && s.status === 200)),
    60_000,
  );
  return {
    verdicts: [
      readiness.verdict('redis', redisDown, redisUp),
      readiness.verdict('postgresql', dbDown, dbUp),
    ],
    workerRestartMs,
  };
}

/**
 * Waits until no operation is queued or running. One left open past its
 * deadline (its job lost with Redis) gets the reconcile pass the schedule
 * would run within a minute, asked for now.
 */
async function quiesce(
  db: Client,
  opts: SoakOptions,
  settleBy: number,
  reconcile: () => Promise<unknown>,
) {
  while (Date.now() < settleBy) {
    const { rows } = await db.query<{ open: string; late: string }>(
      `select count(*) as open,
              count(*) filter (where created_at < now() - make_interval(secs => $1)) as late
       from operation where status in ('queued', 'running')`,
      [opts.deadlineSeconds],
    );
    if (Number(rows[0].open) === 0) return;
    if (Number(rows[0].late) > 0) await reconcile().catch(() => undefined);
    await sleep(1000);
  }
}
