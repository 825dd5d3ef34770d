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

const STATE_DIR = join(__dirname, '..', '.proximity');
const ENV_FILE = join(STATE_DIR, 'demo.env');

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

/**
 * Registers (or refreshes: its credentials change at every start) the
 * simulator as a Proxmox host through the public API, then syncs its nodes.
 */
async function registerDemoHost(
  base: string,
  admin: { username: string; password: string },
  simulator: RunningSimulator,
): Promise<string> {
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
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
  const login = await call('POST', '/api/auth/login', undefined, admin);
  if (login.status !== 200) return 'not registered (the demo admin password was changed)';
  const token = String(login.body.accessToken);
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
  const list = await call('GET', '/api/proxmox/hosts?perPage=100', token);
  const existing = (list.body.items as { id: string; name: string }[]).find(
    (h) => h.name === DEMO_HOST,
  );
  const saved = existing
    ? await call('PATCH', `/api/proxmox/hosts/${existing.id}`, token, host)
    : await call('POST', '/api/proxmox/hosts', token, {
        ...host,
        name: DEMO_HOST,
        isDefault: true,
      });
  if (saved.status >= 300)
    return `not registered (${JSON.stringify(saved.body.details ?? saved.body.message)})`;
  const sync = await call('POST', `/api/proxmox/hosts/${String(saved.body.id)}/sync`, token);
  return `registered as host '${DEMO_HOST}' with ${String(sync.body.nodes)} nodes`;
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
  });
  await app.listen(config.http.port, config.http.host);

  const base = `http://127.0.0.1:${config.http.port}`;
  const registration = await registerDemoHost(
    base,
    { username: secrets.PROXIMITY_ADMIN_USERNAME, password: secrets.PROXIMITY_ADMIN_PASSWORD },
    simulator,
  );
  process.stdout.write(
    [
      '',
      'Proximity is running (API and worker in one process).',
      `  API:        ${base}/api`,
      `  API docs:   ${base}/api/docs`,
      `  Admin:      ${secrets.PROXIMITY_ADMIN_USERNAME} / ${secrets.PROXIMITY_ADMIN_PASSWORD}`,
      `              (kept in ${ENV_FILE}; the account is created on first start)`,
      `Demo Proxmox VE (simulator), ${registration}:`,
      `  API:        ${simulator.api}  TLS fingerprint ${simulator.tlsFingerprint}`,
      `  API token:  ${simulator.tokenId} = ${simulator.tokenSecret}`,
      `  SSH:        ${simulator.sshUser}@${simulator.ssh}  host key ${simulator.sshHostKeyFingerprint}`,
      `  SSH login:  password ${simulator.sshPassword}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );

  const stop = async (): Promise<void> => {
    await app.close();
    await simulator.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
