import { EntityManager } from '@mikro-orm/postgresql';
import { createPrivateKey, randomBytes, randomUUID } from 'node:crypto';
import { format } from 'node:util';
import Redis from 'ioredis';
import { utils as sshUtils } from 'ssh2';
import type { Response } from 'supertest';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { databaseUrl, workerDatabase } from '../support/databases';
import { type AppBody, type OperationBody, reaches, settled } from '../support/deployments';
import { TEST_REDIS_URL } from '../support/redis-keys';
import { ResponseRecorder } from '../support/response-recorder';
import {
  describeHits,
  type Haystack,
  scan,
  type Secret,
  type SecretPattern,
} from '../support/secret-scanner';
import { waitFor } from '../support/spawn-app';
import { databaseDump, redisValues } from '../support/stored-data';
import { ADMIN_USERNAME, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, type Session } from '../support/users';

const distinct = (label: string): string => `S3cr3t-${label}-${randomBytes(12).toString('hex')}`;

/** Shapes no stored or logged text may have, whatever the value: a Proxmox ticket, a private key. */
const PATTERNS: SecretPattern[] = [
  { name: 'Proxmox ticket', pattern: /PVE:[^:\s]+@[^:\s]+:[0-9A-F]{8}::/ },
  { name: 'PEM private key', pattern: /PRIVATE KEY-----/ },
];

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/**
 * Every kind of secret Proximity handles, through everything a client does with
 * it, then hunted (also base64, hex, URL- and JSON-escaped) in every answer, log
 * line, database row and Redis key the scenario produced. The only answers that
 * may carry one are those that hand it to its owner, each named below.
 */
describe('secret scan: no secret leaks into answers, logs, the database or Redis', () => {
  const recorder = new ResponseRecorder();
  const secrets: Secret[] = [];
  const allowances = new Map<string, Map<string, number>>();
  let consoleSpies: jest.SpyInstance[] = [];
  let started: TestApp;
  let running = false;
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let user: Session;
  let apiToken: string;
  let tokenSecret: string;
  let pvePassword: string;
  let sshPassword: string;
  let sshPrivateKey: string;
  let tokenHost: string;
  let passwordHost: string;
  let grafana: AppBody;
  let wordpress: AppBody;
  let haystacks: Haystack[];

  /** Adds a value to the hunt; a value already hunted keeps its first name. */
  const hunt = <T extends string | Buffer>(name: string, value: T): T => {
    if (!secrets.some((s) => Buffer.from(s.value).equals(Buffer.from(value))))
      secrets.push({ name, value });
    return value;
  };
  /** This one answer may carry the named secret once more, in clear. */
  const allow = (res: Response, name: string): void => {
    const label = recorder.recordOf(res).label;
    const allowed = allowances.get(label) ?? new Map<string, number>();
    allowed.set(name, (allowed.get(name) ?? 0) + 1);
    allowances.set(label, allowed);
  };
  const nameOf = (value: string): string => {
    const secret = secrets.find((s) => s.value === value);
    if (!secret) throw new Error('not a hunted value');
    return secret.name;
  };

  /** Signs in; the answer is the one place its two tokens may appear. */
  const signIn = async (username: string, password: string, label: string): Promise<Session> => {
    const res = await t.http().post('/api/auth/login').send({ username, password });
    expect(res.status).toBe(200);
    const body = res.body as { accessToken: string; refreshToken: string; user: { id: string } };
    hunt(`${label} access token`, body.accessToken);
    hunt(`${label} refresh token`, body.refreshToken);
    allow(res, nameOf(body.accessToken));
    allow(res, nameOf(body.refreshToken));
    return {
      userId: body.user.id,
      username,
      password,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
    };
  };

  const ok = async (res: Promise<Response>, status = 200): Promise<Response> => {
    const answered = await res;
    const request = recorder.recordOf(answered).label;
    expect({ request, status: answered.status }).toEqual({ request, status });
    return answered;
  };

  const operationEnded = (session: Session, id: string): Promise<OperationBody> =>
    waitFor(
      async () => {
        const op = (await t.http().get(`/api/operations/${id}`).set(bearer(session)))
          .body as OperationBody;
        return op.status === 'succeeded' || op.status === 'failed' ? op : null;
      },
      60_000,
      100,
    );

  /** The secret variables of an application, generated ones included, read the way the app does. */
  const secretEnvironmentOf = async (id: string): Promise<Record<string, string>> => {
    const [row] = await t.app
      .get(EntityManager)
      .fork()
      .execute<{ secret_environment: string }[]>(
        'select secret_environment from application where id = ?',
        [id],
      );
    return JSON.parse(t.config.keyring.decrypt(row.secret_environment)) as Record<string, string>;
  };

  /** The owner reads the root password: the one answer allowed to hold it. */
  const readCredentials = async (app: AppBody, label: string): Promise<void> => {
    const res = await ok(t.http().get(`/api/apps/${app.id}/credentials`).set(bearer(user)));
    const { rootPassword } = res.body as { rootPassword: string };
    expect(rootPassword).toEqual(expect.any(String));
    hunt(`${label} root password`, rootPassword);
    allow(res, nameOf(rootPassword));
  };

  beforeAll(async () => {
    consoleSpies = CONSOLE_METHODS.map((method) => jest.spyOn(console, method));
    const adminPassword = hunt('admin password', distinct('admin'));
    started = await startFreshApp({ PROXIMITY_ADMIN_PASSWORD: adminPassword, LOG_LEVEL: 'trace' });
    running = true;
    t = recorder.app(started);
    hunt('JWT signing key', started.env.JWT_SECRET!);
    hunt('encryption key', started.env.PROXIMITY_ENCRYPTION_KEY!);
    hunt('encryption key bytes', Buffer.from(started.env.PROXIMITY_ENCRYPTION_KEY!, 'base64'));

    const sshKey = sshUtils.generateKeyPairSync('ed25519');
    const parsedKey = sshUtils.parseKey(sshKey.private);
    if (parsedKey instanceof Error) throw parsedKey;
    const seed = createPrivateKey(parsedKey.getPrivatePEM()).export({ format: 'jwk' }).d!;
    sshPrivateKey = hunt('SSH private key', sshKey.private);
    // Also the key as one line (newlines stripped) and its 32 secret bytes in any encoding.
    hunt(
      'SSH private key body',
      sshKey.private
        .split('\n')
        .filter((line) => line !== '' && !line.startsWith('-----'))
        .join(''),
    );
    hunt('SSH private key seed', Buffer.from(seed, 'base64url'));
    tokenSecret = hunt('Proxmox token secret', randomUUID());
    pvePassword = hunt('Proxmox root password', distinct('pve-password'));
    sshPassword = hunt('SSH password', distinct('ssh-password'));
    sim = await SimulatorFixture.start({
      latency: { taskMs: 10, dhcpLeaseMs: 100 },
      tokenSecret,
      password: pvePassword,
      sshPassword,
      sshAuthorizedKeys: sshKey.public,
    });
  });
  afterAll(async () => {
    for (const spy of consoleSpies) spy.mockRestore();
    if (running) await started.close();
    await sim?.close();
  });

  it('signs in, keeps tokens and changes a password', async () => {
    admin = await signIn(ADMIN_USERNAME, started.env.PROXIMITY_ADMIN_PASSWORD!, 'admin');
    const username = `scan-${randomBytes(3).toString('hex')}`;
    const firstPassword = hunt('user password', distinct('user'));
    await ok(
      t
        .http()
        .post('/api/users')
        .set(bearer(admin))
        .send({ username, password: firstPassword, role: 'user' }),
      201,
    );
    const first = await signIn(username, firstPassword, 'user first');
    const refreshed = await ok(
      t.http().post('/api/auth/refresh').send({ refreshToken: first.refreshToken }),
    );
    const pair = refreshed.body as { accessToken: string; refreshToken: string };
    for (const [label, value] of [
      ['user refreshed access token', pair.accessToken],
      ['user refreshed refresh token', pair.refreshToken],
    ] as const) {
      hunt(label, value);
      allow(refreshed, nameOf(value));
    }
    const newPassword = hunt('user new password', distinct('user-new'));
    await ok(
      t
        .http()
        .post('/api/auth/password')
        .set(bearer(pair.accessToken))
        .send({ currentPassword: firstPassword, newPassword }),
      204,
    );
    // A password typed wrong is often one character off the real one: a secret too.
    const typo = hunt('mistyped login password', distinct('typo'));
    await ok(t.http().post('/api/auth/login').send({ username, password: typo }), 401);
    user = await signIn(username, newPassword, 'user');

    const created = await ok(
      t.http().post('/api/auth/tokens').set(bearer(user)).send({ name: 'deploy script' }),
      201,
    );
    apiToken = hunt('user API token', (created.body as { token: string }).token);
    allow(created, 'user API token');
    await ok(t.http().get('/api/auth/me').set(bearer(apiToken)));
  });

  it('registers a host with a token and an SSH key, one with passwords, and tests a wrong one', async () => {
    const common = {
      host: '127.0.0.1',
      port: sim.sim.port,
      tlsFingerprint: sim.sim.tlsFingerprint,
      sshPort: sim.sim.sshPort,
      sshHostKeyFingerprint: sim.sim.sshHostKeyFingerprint,
    };
    const registered = await ok(
      t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send({
          ...common,
          name: 'scan-token',
          tokenId: sim.sim.tokenId,
          tokenSecret,
          sshPrivateKey,
          vmidMin: 684_000,
          vmidMax: 684_499,
          portMin: 32_350,
          portMax: 32_374,
          isDefault: true,
        }),
      201,
    );
    tokenHost = (registered.body as { id: string }).id;
    const second = await ok(
      t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send({
          ...common,
          name: 'scan-password',
          username: sim.sim.username,
          password: pvePassword,
          sshPassword,
          vmidMin: 684_500,
          vmidMax: 684_899,
          portMin: 32_375,
          portMax: 32_398,
        }),
      201,
    );
    passwordHost = (second.body as { id: string }).id;
    for (const id of [tokenHost, passwordHost]) {
      const tested = await ok(t.http().post(`/api/proxmox/hosts/${id}/test`).set(bearer(admin)));
      expect(tested.body).toMatchObject({ ok: true, ssh: { ok: true } });
      await ok(t.http().post(`/api/proxmox/hosts/${id}/sync`).set(bearer(admin)));
    }

    // A mistyped password is a password too: the refusal must not echo it.
    const wrong = await ok(
      t
        .http()
        .post('/api/proxmox/hosts')
        .set(bearer(admin))
        .send({
          ...common,
          name: 'scan-wrong',
          username: sim.sim.username,
          password: hunt('mistyped Proxmox password', distinct('wrong-pve')),
          sshPassword: hunt('mistyped SSH password', distinct('wrong-ssh')),
          vmidMin: 684_900,
          vmidMax: 684_999,
          portMin: 32_399,
          portMax: 32_399,
        }),
      201,
    );
    const wrongId = (wrong.body as { id: string }).id;
    const refused = await ok(
      t.http().post(`/api/proxmox/hosts/${wrongId}/test`).set(bearer(admin)),
    );
    expect(refused.body).toMatchObject({ ok: false, ssh: { ok: false } });
    await ok(t.http().delete(`/api/proxmox/hosts/${wrongId}`).set(bearer(admin)), 204);
  });

  it('refuses malformed secrets (400) without echoing them', async () => {
    // The distinctive part is hunted: an echo cut short still holds it.
    const refused = (label: string, padding = '') => `${hunt(label, distinct(label))}${padding}`;
    const hosts = (body: Record<string, unknown>) =>
      ok(t.http().patch(`/api/proxmox/hosts/${passwordHost}`).set(bearer(admin)).send(body), 400);
    await hosts({ tokenSecret: refused('token-secret-not-uuid') });
    await hosts({ password: refused('pve-password-too-long', 'x'.repeat(300)) });
    // The armour of a key generated now, around a body that is no key.
    const armour = sshUtils.generateKeyPairSync('ed25519').private.trim().split('\n');
    await hosts({
      sshPrivateKey: `${armour[0]}\n${refused('ssh-key-garbage')}\n${armour.at(-1)}\n`,
    });
    await ok(
      t
        .http()
        .post('/api/auth/login')
        .send({ username: user.username, password: refused('login-too-long', 'x'.repeat(5000)) }),
      400,
    );
    for (const environment of [
      { ADMIN_PASSWORD: refused('grafana-too-long', 'x'.repeat(4100)) },
      { ADMIN_PASSWORD: 'fine-password', UNDECLARED: refused('undeclared-variable') },
    ]) {
      await ok(
        t
          .http()
          .post('/api/apps')
          .set(bearer(user))
          .send({ catalogId: 'grafana', hostname: 'scan-refused', environment }),
        400,
      );
    }
  });

  it('deploys apps with given and generated secrets, on both hosts', async () => {
    const grafanaPassword = hunt('grafana admin password', distinct('grafana'));
    // A tool that echoes the environment in its error (compose does): grafana's first
    // `compose up` on the token host fails so; the retry then succeeds.
    const fault = await sim.control('POST', '/_sim/faults', {
      rules: [
        {
          sshCommand: String.raw`exec\W+6840\d\d\W.*compose.*\Wup\W+-d`,
          status: 1,
          message: `invalid value GF_SECURITY_ADMIN_PASSWORD=${grafanaPassword} in service grafana`,
          times: 1,
        },
      ],
    });
    expect(fault.status).toBe(201);
    const [first, second] = await Promise.all([
      ok(
        t
          .http()
          .post('/api/apps')
          .set(bearer(apiToken))
          .send({
            catalogId: 'grafana',
            hostname: 'scan-grafana',
            environment: { ADMIN_PASSWORD: grafanaPassword },
          }),
        202,
      ),
      ok(
        t
          .http()
          .post('/api/apps')
          .set(bearer(user))
          .send({ catalogId: 'wordpress', hostname: 'scan-wordpress', hostId: passwordHost }),
        202,
      ),
    ]);
    [grafana, wordpress] = await Promise.all(
      [first, second].map((res) => settled(t, user, (res.body as AppBody).id)),
    );
    expect([grafana.status, wordpress.status]).toEqual(['running', 'running']);
    expect((await sim.control('GET', '/_sim/faults')).body).toMatchObject({
      rules: [{ fired: 1 }],
    });
    for (const [app, label] of [
      [grafana, 'grafana'],
      [wordpress, 'wordpress'],
    ] as const) {
      for (const [key, value] of Object.entries(await secretEnvironmentOf(app.id)))
        hunt(`${label} ${key}`, value);
      await readCredentials(app, label);
    }
    // Not its owner: an admin does not get the password either.
    await ok(t.http().get(`/api/apps/${grafana.id}/credentials`).set(bearer(admin)), 404);
  });

  it('backs up, restores, restarts and clones', async () => {
    const backup = await ok(
      t.http().post(`/api/apps/${grafana.id}/backups`).set(bearer(user)).send({}),
      202,
    );
    const { id: backupId, operation } = backup.body as { id: string; operation: OperationBody };
    expect((await operationEnded(user, operation.id)).status).toBe('succeeded');
    await ok(
      t
        .http()
        .put(`/api/apps/${grafana.id}/backup-schedule`)
        .set(bearer(user))
        .send({ cron: '0 3 * * *', keepLast: 3 }),
    );
    const restore = await ok(
      t.http().post(`/api/apps/${grafana.id}/backups/${backupId}/restore`).set(bearer(user)),
      202,
    );
    const restoring = (restore.body as { operation: OperationBody }).operation;
    expect((await operationEnded(user, restoring.id)).status).toBe('succeeded');

    const [restart, clone] = await Promise.all([
      ok(
        t
          .http()
          .post(`/api/apps/${grafana.id}/actions`)
          .set(bearer(apiToken))
          .send({ action: 'restart' }),
        202,
      ),
      ok(
        t
          .http()
          .post(`/api/apps/${wordpress.id}/clone`)
          .set(bearer(user))
          .send({ hostname: 'scan-wordpress-copy' }),
        202,
      ),
    ]);
    const restarting = (restart.body as { operation: OperationBody }).operation;
    expect((await operationEnded(user, restarting.id)).status).toBe('succeeded');
    const copy = await reaches(t, user, (clone.body as AppBody).id, ['running', 'error']);
    expect(copy?.status).toBe('running');
    for (const [key, value] of Object.entries(await secretEnvironmentOf(copy!.id)))
      hunt(`clone ${key}`, value);
    await readCredentials(copy!, 'clone');
  });

  it('reads everything a client reads', async () => {
    const apps = (await ok(t.http().get('/api/apps?perPage=100').set(bearer(user)))).body as {
      items: AppBody[];
    };
    expect(apps.items).toHaveLength(3);
    const operations = (await ok(t.http().get('/api/operations?perPage=100').set(bearer(admin))))
      .body as { items: OperationBody[] };
    const userReads = [
      '/api/auth/me',
      '/api/auth/tokens',
      '/api/proxmox/nodes',
      '/api/catalog/grafana',
      '/api/catalog/wordpress',
      '/api/operations?perPage=100',
      `/api/apps/${grafana.id}/backup-schedule`,
      ...operations.items.map((op) => `/api/operations/${op.id}`),
      ...apps.items.flatMap((app) => [
        `/api/apps/${app.id}`,
        `/api/apps/${app.id}/logs?limit=500`,
        `/api/apps/${app.id}/backups`,
        `/api/apps/${app.id}/metrics`,
      ]),
    ];
    for (const path of userReads) await ok(t.http().get(path).set(bearer(user)));
    for (const path of ['/api/apps?perPage=100', `/api/apps/${grafana.id}`])
      await ok(t.http().get(path).set(bearer(apiToken)));
    const backups = (await ok(t.http().get(`/api/apps/${grafana.id}/backups`).set(bearer(user))))
      .body as { items: { id: string }[] };
    for (const backup of backups.items)
      await ok(t.http().get(`/api/apps/${grafana.id}/backups/${backup.id}`).set(bearer(user)));

    const adminReads = [
      '/api/apps?perPage=100',
      '/api/audit?perPage=100',
      '/api/settings',
      '/api/proxmox/hosts',
      `/api/proxmox/hosts/${tokenHost}`,
      `/api/proxmox/hosts/${passwordHost}`,
      '/api/ports?perPage=100',
      '/api/users?perPage=100',
      `/api/users/${user.userId}/tokens`,
      `/api/apps/discover?hostId=${tokenHost}`,
      `/api/apps/discover?hostId=${passwordHost}`,
      '/metrics',
      '/health/live',
      '/health/ready',
    ];
    for (const path of adminReads) await ok(t.http().get(path).set(bearer(admin)));
  });

  /**
   * One known value planted through channels the test controls (a token's
   * name: answers and a database row; an unknown path: the request log; a key
   * of the run's prefix, base64-encoded: Redis), so that every run proves the
   * scanner finds what it hunts in each kind of haystack.
   */
  const canary = distinct('canary');
  const plantCanary = async (): Promise<void> => {
    const planted = await ok(
      t.http().post('/api/auth/tokens').set(bearer(admin)).send({ name: canary }),
      201,
    );
    hunt('canary API token', (planted.body as { token: string }).token);
    allow(planted, 'canary API token');
    await ok(t.http().get(`/api/no-such-route/${canary}`), 404);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      await redis.set(
        `${started.env.REDIS_PREFIX}:secret-scan-canary`,
        Buffer.from(`x${canary}`).toString('base64'),
      );
    } finally {
      redis.disconnect();
    }
  };

  it('collects every answer, log line, database row and Redis key of the run', async () => {
    await plantCanary();
    // Idle workers and pending writes end before the files are read.
    running = false;
    await started.close();
    const responses = recorder.responses.flatMap((r): Haystack[] => [
      { where: `response ${r.label} (${r.status}) headers`, text: r.headers },
      {
        where: `response ${r.label} (${r.status}) body`,
        text: r.body,
        allowed: allowances.get(r.label),
      },
    ]);
    const consoleText = consoleSpies
      .flatMap((spy) => spy.mock.calls.map((args: unknown[]) => format(...args)))
      .join('\n');
    const dump = await databaseDump(databaseUrl(workerDatabase()));
    const keys = await redisValues(started.env.REDIS_PREFIX!);
    haystacks = [
      ...responses,
      { where: 'server log', text: started.logs.text },
      { where: 'console', text: consoleText },
      { where: 'pg_dump', text: dump },
      ...keys.map(({ key, value }) => ({ where: `redis ${key}`, text: value })),
    ];

    // The haystacks hold what they must for the scan to mean something.
    expect(recorder.responses.length).toBeGreaterThan(80);
    expect(started.logs.entries().some((e) => e.msg === 'request completed')).toBe(true);
    // The worker's lines too: the failed first attempt of grafana's deploy.
    expect(started.logs.entries()).toContainEqual(
      expect.objectContaining({ msg: 'deploy step failed', attempt: 1 }),
    );
    expect(dump).toMatch(/COPY public\.application .*secret_environment/);
    expect(dump).toMatch(/pxe1\./);
    expect(
      keys.some(
        ({ key, value }) => /:bull:deploy:[0-9a-f-]{36}$/.test(key) && value.includes('"data"'),
      ),
    ).toBe(true);
    for (const label of allowances.keys())
      expect(recorder.responses.map((r) => r.label)).toContain(label);
  });

  it('the scanner finds a secret in every encoding at every byte alignment, and allows only what is named', () => {
    const secret: Secret = { name: 'probe', value: distinct('probe') };
    const found = (text: string, allowed?: Map<string, number>) =>
      scan([{ where: 'probe', text, allowed }], [secret]).map((hit) => hit.form);
    for (const offset of [0, 1, 2, 3, 4, 5]) {
      const blob = Buffer.concat([randomBytes(offset), Buffer.from(secret.value), randomBytes(5)]);
      expect(found(blob.toString('base64'))).toEqual([`base64@${offset % 3}`]);
      // Without + or / in it, the base64url form is the base64 one, hunted once.
      expect(found(blob.toString('base64url'))).toEqual([
        expect.stringMatching(new RegExp(`^base64(url)?@${offset % 3}$`)),
      ]);
      expect(found(`0x${blob.toString('hex')}`)).toEqual(['hex']);
    }
    const value = secret.value as string;
    const typed: Secret = { name: 'typed', value: `${value} "/+&é` };
    const typedForms = (text: string) =>
      scan([{ where: 'probe', text }], [typed]).map((h) => h.form);
    expect(typedForms(JSON.stringify({ note: typed.value }))).toEqual(['json-escaped']);
    expect(typedForms(`/login?q=${encodeURIComponent(typed.value as string)}`)).toEqual([
      'url-encoded',
    ]);
    expect(found(`say ${value}`, new Map([['probe', 1]]))).toEqual([]);
    expect(found(`say ${value} twice ${value}`, new Map([['probe', 1]]))).toEqual(['clear']);
    expect(found('nothing here')).toEqual([]);
  });

  it('the scanner finds the planted value in answers, log, database and Redis', () => {
    const found = scan(haystacks, [{ name: 'canary', value: canary }]);
    const kinds = new Set(found.map((hit) => hit.where.split(' ')[0]));
    expect([...kinds].sort()).toEqual(['pg_dump', 'redis', 'response', 'server']);
    expect(found.find((hit) => hit.where.startsWith('redis'))?.form).toMatch(/^base64@/);
    for (const hit of found) expect(hit.masked).not.toContain(canary);
  });

  it('no hunted secret appears anywhere beyond the answers that hand it to its owner', () => {
    expect(secrets.length).toBeGreaterThan(25);
    expect(describeHits(scan(haystacks, secrets, PATTERNS))).toEqual([]);
  });
});
