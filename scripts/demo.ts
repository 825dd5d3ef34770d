import 'reflect-metadata';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type RunningSimulator, startSimulator } from '../test/pve-simulator';
import { createApp } from '../src/app.factory';
import type { AppConfig } from '../src/config/app-config';
import { loadConfig } from '../src/config/load-config';
import { UnknownEncryptionKeyError } from '../src/crypto/encryption-keys.check';
import { migrate } from '../src/database/migrate';

// PROXIMITY_DEMO_DIR lets a test run the demo without touching the checkout's own state.
const STATE_DIR = process.env.PROXIMITY_DEMO_DIR ?? join(__dirname, '..', '.proximity');
const ENV_FILE = join(STATE_DIR, 'demo.env');
/** The simulated cluster, kept so that the demo app survives a restart as the database does. */
const CLUSTER_FILE = join(STATE_DIR, 'demo-cluster.json');

/** Secrets generated once per checkout, kept in a git-ignored file so restarts keep working. */
function demoSecrets(): Record<string, string> {
  if (!existsSync(ENV_FILE)) {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    const lines = [
      `JWT_SECRET=${randomBytes(32).toString('hex')}`,
      `PROXIMITY_ENCRYPTION_KEY=${randomBytes(32).toString('base64')}`,
      'PROXIMITY_ADMIN_USERNAME=admin',
      `PROXIMITY_ADMIN_PASSWORD=${randomBytes(15).toString('base64url')}`,
    ];
    writeFileSync(ENV_FILE, `${lines.join('\n')}\n`, { mode: 0o600 });
  }
  return Object.fromEntries(
    readFileSync(ENV_FILE, 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function preferredPort(port: number): Promise<number> {
  return (await portIsFree(port)) ? port : 0;
}

const DEMO_HOST = 'demo-pve';
const DEMO_APP = { catalogId: 'whoami', hostname: 'demo-whoami' };
/** A bound on a hang only: a deployment on the simulator takes seconds. */
const DEPLOY_DEADLINE_MS = 5 * 60_000;

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

type Call = (method: string, path: string, body?: unknown) => Promise<ApiAnswer>;

interface DemoApp {
  id: string;
  status: string;
  url: string | null;
  lastError: string | null;
}

/** Calls the public API as the demo admin; null when the admin cannot sign in. */
async function adminApi(
  base: string,
  admin: { username: string; password: string },
): Promise<Call | null> {
  const request = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        'content-type': 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return {
      status: res.status,
      body: (await res.json().catch(() => null)) as Record<string, unknown>,
    };
  };
  const login = await request('POST', '/api/auth/login', undefined, admin);
  if (login.status !== 200) return null;
  const token = String(login.body.accessToken);
  return (method, path, body) => request(method, path, token, body);
}

/**
 * Registers (or refreshes: its ports and credentials change at every start)
 * the simulator as a Proxmox host through the public API, then syncs its nodes.
 */
async function registerDemoHost(
  call: Call,
  simulator: RunningSimulator,
): Promise<{ registered: boolean; message: string }> {
  const host = {
    host: '127.0.0.1',
    port: simulator.port,
    tokenId: simulator.tokenId,
    tokenSecret: simulator.tokenSecret,
    tlsFingerprint: simulator.tlsFingerprint,
    sshPort: simulator.sshPort,
    sshUser: simulator.sshUser,
    sshPassword: simulator.sshPassword,
    sshHostKeyFingerprint: simulator.sshHostKeyFingerprint,
  };
  const list = await call('GET', '/api/proxmox/hosts?perPage=100');
  const existing = (list.body.items as { id: string; name: string }[]).find(
    (h) => h.name === DEMO_HOST,
  );
  const saved = existing
    ? await call('PATCH', `/api/proxmox/hosts/${existing.id}`, host)
    : await call('POST', '/api/proxmox/hosts', {
        ...host,
        ...demoPortPool(),
        name: DEMO_HOST,
        isDefault: true,
      });
  if (saved.status >= 300)
    return {
      registered: false,
      message: `not registered (${JSON.stringify(saved.body.details ?? saved.body.message)})`,
    };
  const sync = await call('POST', `/api/proxmox/hosts/${String(saved.body.id)}/sync`);
  return {
    registered: true,
    message: `registered as host '${DEMO_HOST}' with ${String(sync.body.nodes)} nodes`,
  };
}

/** PROXIMITY_DEMO_PORTS=min-max narrows the demo host's public port pool (tests run side by side). */
function demoPortPool(): { portMin?: number; portMax?: number } {
  const match = /^(\d+)-(\d+)$/.exec(process.env.PROXIMITY_DEMO_PORTS ?? '');
  return match ? { portMin: Number(match[1]), portMax: Number(match[2]) } : {};
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(5_000) })).ok;
  } catch {
    return false;
  }
}

/** Polls the application until `done` holds; null when it is gone. */
async function waitForApp(
  call: Call,
  id: string,
  done: (app: DemoApp) => boolean,
): Promise<DemoApp | null> {
  const deadline = Date.now() + DEPLOY_DEADLINE_MS;
  for (;;) {
    const res = await call('GET', `/api/apps/${id}`);
    if (res.status === 404) return null;
    const app = res.body as unknown as DemoApp;
    if (res.status === 200 && done(app)) return app;
    if (Date.now() > deadline) throw new Error(`the demo app did not settle (${app.status})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Every transitional status ends in one of these. */
const settledStatus = (app: DemoApp) => ['running', 'stopped', 'error'].includes(app.status);

/**
 * Makes sure the demo app runs and answers: kept when it does (its container
 * is in the saved cluster), started when stopped, otherwise removed and
 * deployed again (e.g. after the cluster file was deleted). Returns its URL,
 * or why there is none.
 */
async function ensureDemoApp(call: Call): Promise<{ url: string | null; message: string }> {
  const search = await call('GET', `/api/apps?search=${DEMO_APP.hostname}&perPage=100`);
  const items = (search.body.items ?? []) as (DemoApp & { hostname: string })[];
  const mine = items.filter((a) => a.hostname === DEMO_APP.hostname);
  // A failed earlier one may remain beside the live one, its hostname released.
  let app: DemoApp | null = mine.find((a) => a.status !== 'error') ?? mine[0] ?? null;
  if (app) app = await waitForApp(call, app.id, settledStatus);
  if (app?.status === 'stopped') {
    await call('POST', `/api/apps/${app.id}/actions`, { action: 'start' });
    app = await waitForApp(call, app.id, (a) => a.status !== 'stopped' && settledStatus(a));
  }
  if (app?.status === 'running' && app.url && (await answers(app.url)))
    return { url: app.url, message: 'running' };
  if (app) {
    await call('DELETE', `/api/apps/${app.id}`);
    // Gone, or left in error (e.g. its container vanished with the cluster file): either way
    // the hostname is free again.
    await waitForApp(call, app.id, (a) => a.status === 'error');
  }
  const deploy = await call('POST', '/api/apps', DEMO_APP);
  if (deploy.status !== 202)
    return { url: null, message: `not deployed (${String(deploy.body.message)})` };
  const deployed = await waitForApp(call, String(deploy.body.id), settledStatus);
  if (deployed?.status === 'running' && deployed.url)
    return { url: deployed.url, message: 'deployed' };
  return { url: null, message: `deployment failed (${deployed?.lastError ?? 'gone'})` };
}

/** What to do when the env file no longer matches the database it was made for. */
function staleKeyAdvice(config: AppConfig): string {
  const database = new URL(config.database.url).pathname.slice(1);
  return [
    `The demo database '${database}' holds secrets sealed with an encryption key that is not in`,
    `${ENV_FILE} (was that file deleted or regenerated?). Either:`,
    '  - put the previous file back, or add its key to this one as',
    '    PROXIMITY_ENCRYPTION_KEYS_OLD=<the previous PROXIMITY_ENCRYPTION_KEY>; or',
    `  - start the demo over with an empty database (this deletes the demo's data):`,
    `    dropdb -h 127.0.0.1 -U postgres ${database} && npm run demo`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const secrets = demoSecrets();
  const config = loadConfig({ ...secrets, ...process.env });
  await migrate(config);

  let app;
  try {
    app = await createApp(config);
  } catch (err) {
    if (!(err instanceof UnknownEncryptionKeyError)) throw err;
    process.stderr.write(`demo failed to start: ${err.message}\n\n${staleKeyAdvice(config)}`);
    process.exit(1);
  }
  const simulator = await startSimulator({
    port: await preferredPort(8006),
    sshPort: await preferredPort(2222),
    stateFile: CLUSTER_FILE,
  });
  await app.listen(config.http.port, config.http.host);
  // Before the demo app's deployment: a Ctrl-C during it still saves the cluster.
  const stop = async (): Promise<void> => {
    await app.close();
    await simulator.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());

  const base = `http://127.0.0.1:${config.http.port}`;
  const call = await adminApi(base, {
    username: secrets.PROXIMITY_ADMIN_USERNAME,
    password: secrets.PROXIMITY_ADMIN_PASSWORD,
  });
  const registration = call
    ? await registerDemoHost(call, simulator)
    : { registered: false, message: 'not registered (the demo admin password was changed)' };
  process.stdout.write(
    [
      '',
      'Proximity is running (API and worker in one process).',
      existsSync(join(config.http.webRoot, 'index.html'))
        ? `  Web UI:     ${base}/`
        : '  Web UI:     not built (npm run web:build, then start again)',
      `  API:        ${base}/api`,
      `  API docs:   ${base}/api/docs`,
      `  Admin:      ${secrets.PROXIMITY_ADMIN_USERNAME} / ${secrets.PROXIMITY_ADMIN_PASSWORD}`,
      `              (kept in ${ENV_FILE}; the account is created on first start)`,
      `Demo Proxmox VE (simulator), ${registration.message}:`,
      `  API:        ${simulator.api}  TLS fingerprint ${simulator.tlsFingerprint}`,
      `  API token:  ${simulator.tokenId} = ${simulator.tokenSecret}`,
      `  SSH:        ${simulator.sshUser}@${simulator.ssh}  host key ${simulator.sshHostKeyFingerprint}`,
      `  SSH login:  password ${simulator.sshPassword}`,
      `  Cluster:    kept in ${CLUSTER_FILE}`,
      '',
    ].join('\n'),
  );
  if (call && registration.registered) {
    process.stdout.write(`Demo app '${DEMO_APP.hostname}' (catalog '${DEMO_APP.catalogId}')...\n`);
    const demo = await ensureDemoApp(call);
    process.stdout.write(
      demo.url
        ? `  Demo app:   ${demo.url}  (${demo.message})\n`
        : `  Demo app:   ${demo.message}\n`,
    );
  }
  process.stdout.write('Press Ctrl-C to stop.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
