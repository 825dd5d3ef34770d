import { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { Response } from 'supertest';
import { Application } from '../../src/applications/application.entity';
import { DeploymentLog, LogLevel } from '../../src/operations/deployment-log.entity';
import { allocate, allocationRequest, createHost } from '../support/applications';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const MISSING = '00000000-0000-4000-8000-000000000000';

interface AppBody {
  id: string;
  hostname: string;
  name: string;
  ownerId: string;
  status: string;
  environment: Record<string, string>;
  operation: { id: string; type: string; status: string; applicationId: string } | null;
  ports: { name: string; containerPort: number; publicPort: number; protocol: string }[];
}
interface PageBody<T> {
  items: T[];
  total: number;
  page: number;
  perPage: number;
}

describe('applications, operations and ports: reads', () => {
  let t: TestApp;
  let em: EntityManager;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let hostId: string;
  let wiki: { id: string; operationId: string };
  let othersApp: string;

  const get = (path: string, session?: Session) => {
    const req = t.http().get(path);
    return session ? req.set(bearer(session)) : req;
  };

  beforeAll(async () => {
    t = await startFreshApp();
    em = t.app.get(EntityManager);
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    hostId = await createHost(t, admin, 'reads', { vmidMin: 40000, vmidMax: 40999 });
    const first = await allocate(
      t,
      allocationRequest(owner, hostId, 'wiki', { name: 'Team Wiki' }),
    );
    wiki = { id: first.application.id, operationId: first.operation.id };
    await allocate(t, allocationRequest(owner, hostId, 'grafana', { name: 'Dashboards 100%' }));
    await allocate(t, allocationRequest(owner, hostId, 'zulu', { name: 'Alpha chat' }));
    othersApp = (await allocate(t, allocationRequest(other, hostId, 'secret-project'))).application
      .id;
  });
  afterAll(() => t?.close());

  describe('GET /api/apps', () => {
    it('401 without a token', async () => {
      expectError(await get('/api/apps'), 401);
    });

    it('a user sees only its own applications; an admin sees all', async () => {
      const mine = (await get('/api/apps?sort=hostname', owner)).body as PageBody<AppBody>;
      expect(mine.items.map((a) => a.hostname)).toEqual(['grafana', 'wiki', 'zulu']);
      expect(mine.total).toBe(3);
      const all = (await get('/api/apps?sort=hostname', admin)).body as PageBody<AppBody>;
      expect(all.items.map((a) => a.hostname)).toEqual([
        'grafana',
        'secret-project',
        'wiki',
        'zulu',
      ]);
    });

    it('searches name and hostname case-insensitively, wildcards as plain text', async () => {
      const names = async (search: string) =>
        (
          (await get(`/api/apps?search=${encodeURIComponent(search)}`, owner))
            .body as PageBody<AppBody>
        ).items
          .map((a) => a.hostname)
          .sort();
      expect(await names('WIKI')).toEqual(['wiki']);
      expect(await names('alpha')).toEqual(['zulu']);
      expect(await names('100%')).toEqual(['grafana']);
      expect(await names('%')).toEqual(['grafana']);
      expect(await names('_')).toEqual([]);
    });

    it('filters by status and host, sorts, and pages', async () => {
      const byStatus = (await get('/api/apps?status=running', admin)).body as PageBody<AppBody>;
      expect(byStatus.total).toBe(0);
      const deploying = (await get('/api/apps?status=deploying', owner)).body as PageBody<AppBody>;
      expect(deploying.total).toBe(3);
      const byHost = (await get(`/api/apps?hostId=${MISSING}`, admin)).body as PageBody<AppBody>;
      expect(byHost.total).toBe(0);
      const onHost = (await get(`/api/apps?hostId=${hostId}`, owner)).body as PageBody<AppBody>;
      expect(onHost.total).toBe(3);
      const byName = (await get('/api/apps?sort=-name&perPage=2&page=2', owner))
        .body as PageBody<AppBody>;
      expect({
        names: byName.items.map((a) => a.name),
        total: byName.total,
        page: byName.page,
      }).toEqual({ names: ['Alpha chat'], total: 3, page: 2 });
      const pastTheEnd = (await get('/api/apps?perPage=2&page=3', owner)).body as PageBody<AppBody>;
      expect(pastTheEnd).toEqual({ items: [], total: 3, page: 3, perPage: 2 });
      const none = (await get(`/api/apps?search=nothing-like-it`, owner)).body as PageBody<AppBody>;
      expect(none).toEqual({ items: [], total: 0, page: 1, perPage: 20 });
      const newest = (await get('/api/apps', owner)).body as PageBody<AppBody>;
      expect(newest.items.map((a) => a.hostname)).toEqual(['zulu', 'grafana', 'wiki']);
    });

    it.each([
      ['perPage=101', 'perPage'],
      ['page=0', 'page'],
      ['status=sleeping', 'status'],
      ['sort=owner', 'sort'],
      ['hostId=not-a-uuid', 'hostId'],
      ['search=', 'search'],
      ['ownerId=x', 'ownerId'],
    ])('400 for %s', async (query, field) => {
      expectError(await get(`/api/apps?${query}`, owner), 400, [field]);
    });
  });

  describe('GET /api/apps/:id', () => {
    it('the owner gets it: ports, masked secrets, the current operation, no secret anywhere', async () => {
      const res = await get(`/api/apps/${wiki.id}`, owner);
      expect(res.status).toBe(200);
      const body = res.body as AppBody;
      expect(body).toMatchObject({
        id: wiki.id,
        hostname: 'wiki',
        name: 'Team Wiki',
        status: 'deploying',
        ownerId: owner.userId,
        environment: { GREETING: 'hello', API_KEY: '********' },
        operation: {
          id: wiki.operationId,
          type: 'deploy',
          status: 'queued',
          applicationId: wiki.id,
        },
      });
      expect(body.ports).toEqual([
        { name: 'http', containerPort: 80, publicPort: 30000, protocol: 'tcp' },
        { name: 'dns', containerPort: 53, publicPort: 30000, protocol: 'udp' },
      ]);
      const text = JSON.stringify(res.body);
      for (const secret of ['secret-of-wiki', 'root-password-of-wiki', 'pxe1.', 'rootPassword']) {
        expect(text).not.toContain(secret);
      }
    });

    it('operation is null when none is queued or running', async () => {
      await em
        .fork()
        .nativeUpdate('Operation', { application: othersApp }, { status: 'succeeded' });
      const res = await get(`/api/apps/${othersApp}`, admin);
      expect((res.body as AppBody).operation).toBeNull();
    });

    it('a list item reads exactly as the detail of its application', async () => {
      const page = (await get('/api/apps', admin)).body as PageBody<AppBody>;
      expect(page.items.some((a) => a.operation === null)).toBe(true);
      expect(page.items.some((a) => a.operation !== null)).toBe(true);
      for (const item of page.items) {
        expect(item).toEqual((await get(`/api/apps/${item.id}`, admin)).body);
      }
    });

    it('404 for another user, the same as for a missing id; 200 for an admin', async () => {
      const foreign = expectError(await get(`/api/apps/${wiki.id}`, other), 404);
      const missing = expectError(await get(`/api/apps/${MISSING}`, other), 404);
      expect(foreign.message).toBe(missing.message);
      expect((await get(`/api/apps/${wiki.id}`, admin)).status).toBe(200);
    });

    it('401 without a token, 400 for an id that is not a UUID', async () => {
      expectError(await get(`/api/apps/${wiki.id}`), 401);
      expectError(await get('/api/apps/nope', owner), 400, ['id']);
    });
  });

  describe('GET /api/apps/:id/logs', () => {
    const lines = 250;

    beforeAll(async () => {
      const fork = em.fork();
      const app = fork.getReference(Application, wiki.id);
      const base = Date.parse('2026-11-30T10:00:00.000Z');
      // Pairs share a timestamp: the cursor must order by id within one instant.
      for (let i = 0; i < lines; i += 1) {
        fork.create(DeploymentLog, {
          application: app,
          at: new Date(base + Math.floor(i / 2) * 1000),
          level: i % 10 === 0 ? LogLevel.Warn : LogLevel.Info,
          step: 'create_container',
          message: `line ${i}`,
        });
      }
      await fork.flush();
    });

    it('pages newest first by cursor without losing or repeating a line', async () => {
      const seen: string[] = [];
      let before: string | null = null;
      const sizes: number[] = [];
      do {
        const query: string = before ? `&before=${before}` : '';
        const res: Response = await get(`/api/apps/${wiki.id}/logs?limit=100${query}`, owner);
        expect(res.status).toBe(200);
        const body = res.body as {
          items: { message: string; at: string }[];
          nextCursor: string | null;
        };
        sizes.push(body.items.length);
        seen.push(...body.items.map((l) => l.message));
        before = body.nextCursor;
      } while (before);
      expect(sizes).toEqual([100, 100, 50]);
      expect(new Set(seen).size).toBe(lines);
      // Newest first: the last line written comes first.
      expect(seen[0]).toMatch(/^line 24[89]$/);
      expect(seen.slice(-2).sort()).toEqual(['line 0', 'line 1']);
    });

    it('defaults to 100 lines; limit is 1..500', async () => {
      const res = await get(`/api/apps/${wiki.id}/logs`, owner);
      expect((res.body as { items: unknown[] }).items).toHaveLength(100);
      const all = await get(`/api/apps/${wiki.id}/logs?limit=500`, owner);
      expect(all.body).toMatchObject({ nextCursor: null });
      for (const limit of ['0', '501', 'x']) {
        expectError(await get(`/api/apps/${wiki.id}/logs?limit=${limit}`, owner), 400, ['limit']);
      }
      expectError(await get(`/api/apps/${wiki.id}/logs?before=garbage`, owner), 400, ['before']);
    });

    it('404 for another user, 200 for an admin, 401 without a token', async () => {
      expectError(await get(`/api/apps/${wiki.id}/logs`, other), 404);
      expect((await get(`/api/apps/${wiki.id}/logs`, admin)).status).toBe(200);
      expectError(await get(`/api/apps/${wiki.id}/logs`), 401);
    });
  });

  describe('GET /api/apps/:id/credentials', () => {
    it('the owner reads the root password, and the read is audited', async () => {
      const res = await get(`/api/apps/${wiki.id}/credentials`, owner);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ rootPassword: 'root-password-of-wiki' });
      const audit = await get('/api/audit?action=application.credentials_read', admin);
      expect((audit.body as PageBody<Record<string, unknown>>).items).toEqual([
        expect.objectContaining({
          actorId: owner.userId,
          resourceType: 'application',
          resourceId: wiki.id,
          outcome: 'success',
        }),
      ]);
    });

    it('an admin who is not the owner gets 404, as does another user; 401 without a token', async () => {
      expectError(await get(`/api/apps/${wiki.id}/credentials`, admin), 404);
      expectError(await get(`/api/apps/${wiki.id}/credentials`, other), 404);
      expectError(await get(`/api/apps/${wiki.id}/credentials`), 401);
      expectError(await get('/api/apps/1/credentials', owner), 400, ['id']);
    });

    it('an admin who owns the application reads it', async () => {
      const own = await allocate(t, allocationRequest(admin, hostId, 'admins-own'));
      const res = await get(`/api/apps/${own.application.id}/credentials`, admin);
      expect(res.body).toEqual({ rootPassword: 'root-password-of-admins-own' });
    });
  });

  describe('operations', () => {
    it('GET /api/operations/:id: owner and admin 200, another user 404, 401, 400', async () => {
      const res = await get(`/api/operations/${wiki.operationId}`, owner);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        id: wiki.operationId,
        type: 'deploy',
        status: 'queued',
        progress: 0,
        step: null,
        attempts: 0,
        maxAttempts: 3,
        error: null,
        applicationId: wiki.id,
        createdAt: expect.any(String),
        startedAt: null,
        finishedAt: null,
      });
      expect((await get(`/api/operations/${wiki.operationId}`, admin)).status).toBe(200);
      expectError(await get(`/api/operations/${wiki.operationId}`, other), 404);
      expectError(await get(`/api/operations/${wiki.operationId}`), 401);
      expectError(await get('/api/operations/x', owner), 400, ['id']);
    });

    it('GET /api/operations: own only (admin all), by application and status', async () => {
      const mine = (await get('/api/operations', owner)).body as PageBody<{
        applicationId: string;
      }>;
      expect(mine.total).toBe(3);
      const theirs = (await get(`/api/operations?applicationId=${wiki.id}`, other))
        .body as PageBody<unknown>;
      expect(theirs.total).toBe(0);
      const one = (await get(`/api/operations?applicationId=${wiki.id}`, owner)).body as PageBody<{
        id: string;
      }>;
      expect(one.items.map((o) => o.id)).toEqual([wiki.operationId]);
      const succeeded = (await get('/api/operations?status=succeeded', admin)).body as PageBody<{
        applicationId: string;
      }>;
      expect(succeeded.items.map((o) => o.applicationId)).toEqual([othersApp]);
      expect(((await get('/api/operations', admin)).body as PageBody<unknown>).total).toBe(5);
      expectError(await get('/api/operations'), 401);
      expectError(await get('/api/operations?status=done', owner), 400, ['status']);
      expectError(await get('/api/operations?applicationId=1', owner), 400, ['applicationId']);
    });
  });

  describe('GET /api/ports', () => {
    it('admin: the allocations and each pool with its usage', async () => {
      const res = await get(`/api/ports?hostId=${hostId}&perPage=2`, admin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        items: [
          { hostId, port: 30000, applicationId: wiki.id, protocol: 'tcp' },
          { hostId, port: 30000, applicationId: wiki.id, protocol: 'udp' },
        ],
        total: 10,
        page: 1,
        perPage: 2,
        ranges: [{ hostId, min: 30000, max: 32767, used: 5, free: 2763 }],
        used: 5,
        free: 2763,
      });
      const empty = await createHost(t, admin, 'empty-pool', { vmidMin: 41000, vmidMax: 41009 });
      const all = (await get('/api/ports', admin)).body as {
        ranges: { hostId: string }[];
        used: number;
      };
      expect(all.ranges.map((r) => r.hostId).sort()).toEqual([empty, hostId].sort());
      expect(all.used).toBe(5);
    });

    it('403 for a user, 401 without a token, 400 for a bad hostId', async () => {
      expectError(await get('/api/ports', owner), 403);
      expectError(await get('/api/ports'), 401);
      expectError(await get('/api/ports?hostId=1', admin), 400, ['hostId']);
    });
  });

  describe('the list answers in a constant number of SQL statements', () => {
    it('the same count for 1, 20 and 100 items', async () => {
      const bulk = await createUser(t, admin);
      const bulkHost = await createHost(t, admin, 'bulk', { vmidMin: 42000, vmidMax: 42999 });
      const settings = (await get('/api/settings', admin)).body as {
        limits: Record<string, number>;
      };
      await t
        .http()
        .put('/api/settings')
        .set(bearer(admin))
        .send({ ...settings, limits: { ...settings.limits, maxAppsPerUser: 200 } });
      for (let i = 0; i < 100; i += 1) {
        await allocate(t, allocationRequest(bulk, bulkHost, `bulk-${i}`));
      }
      const connection = t.app.get(MikroORM).em.getConnection();
      const execute = jest.spyOn(connection, 'execute');
      const statements = async (perPage: number): Promise<number> => {
        execute.mockClear();
        const res = await get(`/api/apps?perPage=${perPage}`, bulk);
        expect((res.body as PageBody<AppBody>).items).toHaveLength(perPage);
        expect((res.body as PageBody<AppBody>).items.every((a) => a.ports.length === 2)).toBe(true);
        expect((res.body as PageBody<AppBody>).items.every((a) => a.operation !== null)).toBe(true);
        return execute.mock.calls.length;
      };
      try {
        const counts = [await statements(1), await statements(20), await statements(100)];
        expect(counts[0]).toBeGreaterThan(0);
        expect(counts).toEqual([counts[0], counts[0], counts[0]]);
      } finally {
        execute.mockRestore();
      }
    });
  });
});
