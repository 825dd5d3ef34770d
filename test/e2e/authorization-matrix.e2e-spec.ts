import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { collectRoutes, type DiscoveredRoute } from '../support/controller-routes';
import { type AppBody, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { createHost } from '../support/applications';
import { waitFor } from '../support/spawn-app';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, login, loginAdmin, type Session } from '../support/users';

type Principal = 'anonymous' | 'other' | 'readToken' | 'owner' | 'admin';
/** The destructive principals run last, each on its own copy where the call destroys. */
const PRINCIPALS: Principal[] = ['anonymous', 'other', 'readToken', 'owner', 'admin'];

interface Call {
  path: string;
  body?: Record<string, unknown>;
  /** A session standing in for the principal, for calls that end the session they use. */
  as?: Session;
}

interface Fixture {
  /** The call one principal makes: fresh resources for a principal whose call destroys. */
  call: (p: Principal) => Call | Promise<Call>;
  /** Owner-scoped list or create: a non-owner sees its own scope, so 2xx. */
  ownScope?: boolean;
  /** Only the owner, not even an admin (credentials, the caller's own tokens). */
  ownerOnly?: boolean;
  /** After a 2xx: wait until the shared resource takes the next call. */
  after?: () => Promise<void>;
}

const VMID_MIN = 720_000;
const PORTS: [number, number] = [32_700, 32_749];
let unique = 0;
const next = (prefix: string) => `${prefix}-${(unique += 1)}`;
/** A throwaway host's own VMIDs, inside this file's block. */
const doomedRange = () => {
  const vmidMin = VMID_MIN + 8_000 + (unique += 1) * 10;
  return { vmidMin, vmidMax: vmidMin + 9 };
};
const destroys = (p: Principal) => p === 'owner' || p === 'admin';

/**
 * Every route of the running app, called as anonymous, another user, the
 * owner's read-scoped API token, the owner and an admin, on real resources;
 * what each must answer follows from the route's declared access. A route
 * without a fixture below fails the matrix, so a new route cannot slip by.
 */
describe('authorization matrix', () => {
  let t: TestApp;
  let sim: SimulatorFixture;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let readToken: string;
  /** Ids of the owner's resources, which no answer to another user may carry. */
  let ownerIds: string[];
  let target: Session;
  let hostId: string;
  let main: AppBody;
  let doomed: AppBody[];
  let deployOperationId: string;
  let backupId: string;
  let doomedBackups: string[];
  let foreignVmid = VMID_MIN + 9_000;

  const http = () => t.http();

  async function deploy(hostname: string): Promise<AppBody> {
    const res = await http()
      .post('/api/apps')
      .set(bearer(owner))
      .send({ catalogId: 'whoami', hostname });
    expect(res.status).toBe(202);
    return settled(t, owner, (res.body as AppBody).id);
  }

  /** Waits until the main app runs with no operation in flight. */
  async function idle(): Promise<void> {
    await waitFor(
      async () => {
        const res = await http().get(`/api/apps/${main.id}`).set(bearer(owner));
        const body = res.body as AppBody;
        const busy = body.operation && ['queued', 'running'].includes(body.operation.status);
        return body.status === 'running' && !busy ? true : null;
      },
      60_000,
      100,
    );
    await waitFor(
      async () => {
        const res = await http().get(`/api/apps/${main.id}/backups`).set(bearer(owner));
        const items = (res.body as { items: { status: string }[] }).items;
        return items.every((b) => b.status === 'completed' || b.status === 'failed') ? true : null;
      },
      60_000,
      100,
    );
  }

  async function backup(): Promise<string> {
    const res = await http().post(`/api/apps/${main.id}/backups`).set(bearer(owner)).send({});
    expect(res.status).toBe(202);
    await idle();
    return (res.body as { id: string }).id;
  }

  async function apiToken(
    session: Session,
    scope: 'read' | 'write' = 'write',
  ): Promise<{ id: string; token: string }> {
    const res = await http()
      .post('/api/auth/tokens')
      .set(bearer(session))
      .send({ name: next('token'), scope });
    expect(res.status).toBe(201);
    return res.body as { id: string; token: string };
  }

  const tokenId = async (session: Session) => (await apiToken(session)).id;

  const sessionOf = (p: Principal): Session =>
    p === 'admin' ? admin : p === 'other' ? other : owner;
  const relogin = (p: Principal) => {
    const s = sessionOf(p);
    return login(t, s.username, s.password);
  };

  const schedule = { cron: '0 3 * * *', keepLast: 3 };
  const withSchedule = async (): Promise<Call> => {
    await http()
      .put(`/api/apps/${main.id}/backup-schedule`)
      .set(bearer(owner))
      .send(schedule)
      .expect(200);
    return { path: `/api/apps/${main.id}/backup-schedule` };
  };

  const app =
    (suffix = '', body?: Record<string, unknown>) =>
    (): Call => ({ path: `/api/apps/${main.id}${suffix}`, body });

  /** One entry per route, keyed by `METHOD path` as the controllers declare it. */
  const FIXTURES: Record<string, Fixture> = {
    'GET /api/apps': { ownScope: true, call: () => ({ path: '/api/apps' }) },
    'POST /api/apps': {
      ownScope: true,
      call: () => ({
        path: '/api/apps',
        body: { catalogId: 'whoami', hostname: next('matrix-deploy') },
      }),
    },
    'DELETE /api/apps/:id': {
      call: (p) => ({
        path: `/api/apps/${destroys(p) ? doomed.shift()!.id : main.id}`,
      }),
    },
    'GET /api/apps/hostname-availability': {
      call: () => ({ path: '/api/apps/hostname-availability?hostname=matrix-main' }),
    },
    'GET /api/apps/:id': { call: app() },
    'POST /api/apps/:id/actions': {
      call: () => ({ path: `/api/apps/${main.id}/actions`, body: { action: 'restart' } }),
      after: idle,
    },
    'DELETE /api/apps/:id/backup-schedule': { call: withSchedule },
    'GET /api/apps/:id/backup-schedule': { call: withSchedule },
    'PUT /api/apps/:id/backup-schedule': {
      call: () => ({ path: `/api/apps/${main.id}/backup-schedule`, body: schedule }),
    },
    'GET /api/apps/:id/backups': { call: app('/backups') },
    'POST /api/apps/:id/backups': {
      call: app('/backups', {}),
      after: idle,
    },
    'DELETE /api/apps/:id/backups/:backupId': {
      call: (p) => ({
        path: `/api/apps/${main.id}/backups/${destroys(p) ? doomedBackups.shift()! : backupId}`,
      }),
      after: idle,
    },
    'GET /api/apps/:id/backups/:backupId': { call: () => app(`/backups/${backupId}`)() },
    'POST /api/apps/:id/backups/:backupId/restore': {
      call: () => app(`/backups/${backupId}/restore`)(),
      after: idle,
    },
    'POST /api/apps/:id/clone': {
      call: () => app('/clone', { hostname: next('matrix-clone') })(),
      after: idle,
    },
    'GET /api/apps/:id/credentials': { ownerOnly: true, call: app('/credentials') },
    'GET /api/apps/:id/logs': { call: app('/logs') },
    'GET /api/apps/:id/metrics': { call: app('/metrics') },
    'POST /api/apps/adopt': {
      call: async (p) => {
        let vmid = foreignVmid;
        if (destroys(p)) {
          vmid = foreignVmid += 1;
          expect((await sim.createContainer(vmid, { hostname: next('foreign') })).exitstatus).toBe(
            'OK',
          );
        }
        return {
          path: '/api/apps/adopt',
          body: { hostId, node: 'pve1', vmid, ownerId: owner.userId },
        };
      },
    },
    'GET /api/apps/discover': { call: () => ({ path: '/api/apps/discover' }) },
    'GET /api/audit': { call: () => ({ path: '/api/audit' }) },
    'POST /api/auth/login': {
      call: () => ({
        path: '/api/auth/login',
        body: { username: owner.username, password: owner.password },
      }),
    },
    'POST /api/auth/logout': {
      call: async (p) => {
        const session = await relogin(p);
        return {
          path: '/api/auth/logout',
          body: { refreshToken: session.refreshToken },
          as: session,
        };
      },
    },
    'GET /api/auth/me': { call: () => ({ path: '/api/auth/me' }) },
    'POST /api/auth/password': {
      call: async (p) => {
        const session = await createUser(t, admin, p === 'admin' ? 'admin' : 'user');
        return {
          path: '/api/auth/password',
          body: { currentPassword: session.password, newPassword: `${session.password}-changed` },
          as: p === 'anonymous' || p === 'readToken' ? undefined : session,
        };
      },
    },
    'POST /api/auth/refresh': {
      call: async (p) => ({
        path: '/api/auth/refresh',
        body: { refreshToken: (await relogin(p)).refreshToken },
      }),
    },
    'GET /api/auth/tokens': { ownScope: true, call: () => ({ path: '/api/auth/tokens' }) },
    'POST /api/auth/tokens': {
      ownScope: true,
      call: () => ({ path: '/api/auth/tokens', body: { name: next('token') } }),
    },
    'DELETE /api/auth/tokens/:id': {
      ownerOnly: true,
      call: async () => ({ path: `/api/auth/tokens/${await tokenId(owner)}` }),
    },
    'GET /api/catalog': { call: () => ({ path: '/api/catalog' }) },
    'GET /api/catalog/:id': { call: () => ({ path: '/api/catalog/whoami' }) },
    'GET /api/catalog/categories': { call: () => ({ path: '/api/catalog/categories' }) },
    'POST /api/catalog/reload': { call: () => ({ path: '/api/catalog/reload' }) },
    'GET /api/operations': { ownScope: true, call: () => ({ path: '/api/operations' }) },
    'GET /api/operations/:id': {
      call: () => ({ path: `/api/operations/${deployOperationId}` }),
    },
    'GET /api/ports': { call: () => ({ path: '/api/ports' }) },
    'GET /api/proxmox/hosts': { call: () => ({ path: '/api/proxmox/hosts' }) },
    'POST /api/proxmox/hosts': {
      call: () => ({
        path: '/api/proxmox/hosts',
        body: {
          name: next('host'),
          host: 'pve.invalid',
          tokenId: 'root@pam!proximity',
          tokenSecret: '00000000-0000-4000-8000-000000000001',
          tlsInsecure: true,
          sshPassword: 'ssh-password',
          sshInsecure: true,
        },
      }),
    },
    'DELETE /api/proxmox/hosts/:id': {
      call: async (p) => ({
        path: `/api/proxmox/hosts/${destroys(p) ? await createHost(t, admin, next('doomed-host'), doomedRange()) : hostId}`,
      }),
    },
    'GET /api/proxmox/hosts/:id': { call: () => ({ path: `/api/proxmox/hosts/${hostId}` }) },
    'PATCH /api/proxmox/hosts/:id': {
      call: () => ({ path: `/api/proxmox/hosts/${hostId}`, body: { name: 'pve-authz' } }),
    },
    'POST /api/proxmox/hosts/:id/sync': {
      call: () => ({ path: `/api/proxmox/hosts/${hostId}/sync` }),
    },
    'POST /api/proxmox/hosts/:id/test': {
      call: () => ({ path: `/api/proxmox/hosts/${hostId}/test` }),
    },
    'GET /api/proxmox/nodes': { call: () => ({ path: '/api/proxmox/nodes' }) },
    'GET /api/settings': { call: () => ({ path: '/api/settings' }) },
    'PUT /api/settings': {
      call: async () => ({
        path: '/api/settings',
        body: (await http().get('/api/settings').set(bearer(admin))).body as Record<
          string,
          unknown
        >,
      }),
    },
    'GET /api/users': { call: () => ({ path: '/api/users' }) },
    'POST /api/users': {
      call: () => ({
        path: '/api/users',
        body: { username: next('matrix-user'), password: 'pw-0123456789abcdef', role: 'user' },
      }),
    },
    'DELETE /api/users/:id': {
      call: async (p) => ({
        path: `/api/users/${destroys(p) ? (await createUser(t, admin)).userId : target.userId}`,
      }),
    },
    'GET /api/users/:id': { call: () => ({ path: `/api/users/${target.userId}` }) },
    'PATCH /api/users/:id': {
      call: () => ({ path: `/api/users/${target.userId}`, body: { role: 'user' } }),
    },
    'GET /api/users/:id/tokens': {
      call: () => ({ path: `/api/users/${target.userId}/tokens` }),
    },
    'DELETE /api/users/:id/tokens/:tokenId': {
      call: async () => ({
        path: `/api/users/${target.userId}/tokens/${await tokenId(target)}`,
      }),
    },
    'GET /health/live': { call: () => ({ path: '/health/live' }) },
    'GET /health/ready': { call: () => ({ path: '/health/ready' }) },
    'GET /metrics': { call: () => ({ path: '/metrics' }) },
  };

  /** What the route's declared access says this principal must get. */
  function expected(route: DiscoveredRoute, fixture: Fixture, p: Principal): number | '2xx' {
    if (route.access === 'public') return '2xx';
    if (p === 'anonymous') return 401;
    if (p === 'readToken' && (route.sessionOnly || route.method !== 'GET')) return 403;
    if (p === 'admin') return route.ownerScoped && fixture.ownerOnly ? 404 : '2xx';
    if (route.access === 'admin') return 403;
    if (p === 'other' && route.ownerScoped && !fixture.ownScope) return 404;
    return '2xx';
  }

  beforeAll(async () => {
    t = await startFreshApp();
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    target = await createUser(t, admin);
    hostId = await registerDeployHost(t, admin, sim.sim, 'pve-authz', VMID_MIN, PORTS);
    [main, ...doomed] = await Promise.all([
      deploy('matrix-main'),
      deploy('doomed-1'),
      deploy('doomed-2'),
    ]);
    expect([main, ...doomed].map((a) => a.status)).toEqual(['running', 'running', 'running']);
    deployOperationId = (
      (await http().get(`/api/operations?applicationId=${main.id}`).set(bearer(owner))).body as {
        items: { id: string }[];
      }
    ).items[0].id;
    backupId = await backup();
    doomedBackups = [await backup(), await backup()];
    const read = await apiToken(owner, 'read');
    readToken = read.token;
    ownerIds = [main.id, deployOperationId, backupId, read.id];
  }, 120_000);
  afterAll(async () => {
    await t?.close();
    await sim?.close();
  });

  it('has a fixture for every route, and every fixture is a route', () => {
    const keys = collectRoutes(t).map((r) => `${r.method} ${r.path}`);
    expect(keys.filter((k) => !FIXTURES[k])).toEqual([]);
    expect(Object.keys(FIXTURES).filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('every principal gets what the route declares, on real resources', async () => {
    const seen: string[] = [];
    const wrong: string[] = [];
    for (const route of collectRoutes(t)) {
      const key = `${route.method} ${route.path}`;
      const fixture = FIXTURES[key];
      if (!fixture) continue;
      for (const p of PRINCIPALS) {
        const call = await fixture.call(p);
        const credential =
          p === 'anonymous'
            ? null
            : p === 'readToken'
              ? readToken
              : (call.as ?? sessionOf(p)).accessToken;
        let req = http()[route.method.toLowerCase() as 'get'](call.path);
        if (credential) req = req.set(bearer(credential));
        const res = await req.send(call.body ?? {});
        const want = expected(route, fixture, p);
        const ok = want === '2xx' ? res.status >= 200 && res.status < 300 : res.status === want;
        seen.push(`${key} ${p}`);
        if (!ok) wrong.push(`${key} as ${p}: ${res.status}, expected ${want}`);
        const text = JSON.stringify(res.body ?? null);
        if (p === 'other' && route.ownerScoped && ownerIds.some((id) => text.includes(id)))
          wrong.push(`${key} as ${p}: shows the owner's resources`);
        if (ok && want === '2xx' && fixture.after) await fixture.after();
      }
    }
    expect(wrong).toEqual([]);
    expect(seen.length).toBe(Object.keys(FIXTURES).length * PRINCIPALS.length);
  }, 90_000);
});
