import Redis from 'ioredis';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  catalogSubscriberName,
  CatalogReloadService,
  RELOAD_WINDOW_KEY,
  RELOAD_WINDOW_MS,
} from '../../src/catalog/catalog-reload.service';
import { CatalogLoader } from '../../src/catalog/catalog.loader';
import { expectError } from '../support/expectations';
import { ROOT, waitFor } from '../support/spawn-app';
import {
  resetState,
  startApp,
  startFreshApp,
  testEnvironment,
  type TestApp,
} from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

interface CatalogApp {
  id: string;
  name: string;
  description: string;
  category: string;
  tags: string[];
  env: { name: string; secret: boolean; default?: string; required: boolean }[];
}

const SHIPPED = join(ROOT, 'catalog');

describe('catalog', () => {
  describe('reading the shipped catalog', () => {
    let t: TestApp;
    let all: CatalogApp[];

    beforeAll(async () => {
      t = await startFreshApp();
      const res = await t.http().get('/api/catalog?perPage=100');
      all = res.body.items as CatalogApp[];
    });
    afterAll(() => t?.close());

    const list = async (query: string) => {
      const res = await t.http().get(`/api/catalog${query}`);
      expect(res.status).toBe(200);
      return res.body as { items: CatalogApp[]; total: number; page: number; perPage: number };
    };
    const ids = (apps: CatalogApp[]) => apps.map((a) => a.id);

    it('lists the first page without a token, sorted by name, without compose templates', async () => {
      const page = await list('');
      expect(page).toMatchObject({ page: 1, perPage: 20 });
      expect(page.total).toBeGreaterThanOrEqual(30);
      expect(page.items).toHaveLength(20);
      const names = all.map((a) => a.name);
      expect(names).toEqual(
        [...names].sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' })),
      );
      expect(ids(page.items)).toEqual(ids(all.slice(0, 20)));
      for (const app of all) expect(app).not.toHaveProperty('compose');
      expect(JSON.stringify(all)).not.toMatch(/"(image|services|restart)":/);
    });

    it.each([
      ['a name, in any case', 'KUMA', 'uptime-kuma'],
      ['the description', 'SinkHole', 'pihole'],
      ['a tag', 'read-later', 'linkding'],
      ['a tag absent from name and description', 'p2p', 'syncthing'],
    ])('searches %s', async (_what, search, expected) => {
      const page = await list(`?search=${encodeURIComponent(search)}`);
      expect(ids(page.items)).toContain(expected);
      const needle = search.toLowerCase();
      for (const app of page.items) {
        const text = [app.name, app.description, ...app.tags].join('\n').toLowerCase();
        expect(text).toContain(needle);
      }
    });

    it('answers an empty page for a search that matches nothing', async () => {
      expect(await list('?search=zz-no-such-app-zz')).toEqual({
        items: [],
        total: 0,
        page: 1,
        perPage: 20,
      });
    });

    it('filters by category (case-insensitive) and combines with search', async () => {
      const media = await list('?category=media&perPage=100');
      expect(media.total).toBeGreaterThanOrEqual(3);
      expect(media.items.every((a) => a.category === 'media')).toBe(true);
      expect(ids((await list('?category=MEDIA&perPage=100')).items)).toEqual(ids(media.items));
      const music = await list('?category=media&search=music');
      expect(ids(music.items)).toContain('navidrome');
      expect(music.items.every((a) => a.category === 'media')).toBe(true);
      expect((await list('?category=no-such-category')).total).toBe(0);
    });

    it('paginates with the shared bounds', async () => {
      const second = await list('?page=2&perPage=5');
      expect(second).toMatchObject({ page: 2, perPage: 5, total: all.length });
      expect(ids(second.items)).toEqual(ids(all.slice(5, 10)));
      const beyond = await list('?page=100&perPage=100');
      expect(beyond).toMatchObject({ items: [], total: all.length });
    });

    it.each([
      ['page=0', 'page'],
      ['page=10001', 'page'],
      ['perPage=0', 'perPage'],
      ['perPage=101', 'perPage'],
      ['perPage=ten', 'perPage'],
      ['page=1.5', 'page'],
      ['sort=name', 'sort'],
      [`search=${'x'.repeat(101)}`, 'search'],
      ['search=a&search=b', 'search'],
      ['category=not%20a%20slug', 'category'],
      ['category=a/b', 'category'],
    ])('answers 400 for ?%s', async (query, field) => {
      expectError(await t.http().get(`/api/catalog?${query}`), 400, [field]);
    });

    it('lists categories with counts that match the filter', async () => {
      const res = await t.http().get('/api/catalog/categories');
      expect(res.status).toBe(200);
      const items = res.body.items as { name: string; count: number }[];
      expect(Object.keys(res.body)).toEqual(['items']);
      expect(items.map((c) => c.name)).toEqual([...items.map((c) => c.name)].sort());
      expect(items.reduce((sum, c) => sum + c.count, 0)).toBe(all.length);
      for (const category of items) {
        expect((await list(`?category=${category.name}`)).total).toBe(category.count);
      }
    });

    it('answers one app by id, with its ports and variables but no secret default', async () => {
      const res = await t.http().get('/api/catalog/nextcloud');
      expect(res.status).toBe(200);
      expect(Object.keys(res.body).sort()).toEqual(
        [
          'id',
          'name',
          'version',
          'description',
          'category',
          'tags',
          'icon',
          'website',
          'minCores',
          'minMemoryMb',
          'minDiskGb',
          'ports',
          'env',
        ].sort(),
      );
      expect(res.body).toMatchObject({
        id: 'nextcloud',
        ports: [{ name: 'web', containerPort: 80, protocol: 'tcp' }],
      });
      const env = res.body.env as CatalogApp['env'];
      expect(env.find((v) => v.name === 'DB_PASSWORD')).toEqual({
        name: 'DB_PASSWORD',
        description: expect.any(String),
        required: true,
        secret: true,
        generate: 'password',
      });
      expect(env.find((v) => v.name === 'ADMIN_USER')).toMatchObject({ default: 'admin' });
      for (const app of all) {
        for (const variable of app.env)
          if (variable.secret) expect(variable.default).toBeUndefined();
      }
    });

    it('answers 404 for an unknown id and 400 for a malformed one', async () => {
      expectError(await t.http().get('/api/catalog/no-such-app'), 404);
      expectError(await t.http().get('/api/catalog/reload'), 404);
      expectError(await t.http().get('/api/catalog/Bad_Id'), 400, ['id']);
      expectError(await t.http().get(`/api/catalog/${'a'.repeat(64)}`), 400, ['id']);
    });
  });

  describe('reloading, across two replicas', () => {
    const variant = 'catalog';
    let dir: string;
    let env: NodeJS.ProcessEnv;
    let a: TestApp;
    let b: TestApp;
    let admin: Session;
    let user: Session;
    let redis: Redis;

    const listIds = async (t: TestApp): Promise<string[]> => {
      const res = await t.http().get('/api/catalog?perPage=100');
      return (res.body.items as CatalogApp[]).map((app) => app.id);
    };
    const reload = (t: TestApp, session?: Session) => {
      const req = t.http().post('/api/catalog/reload');
      return session ? req.set(bearer(session)) : req;
    };
    /** Ends the 10-second window, as if it had passed. */
    const openWindow = () => redis.del(`${env.REDIS_PREFIX}:${RELOAD_WINDOW_KEY}`);

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'proximity-catalog-'));
      await copyFile(join(SHIPPED, 'whoami.yaml'), join(dir, 'whoami.yaml'));
      await copyFile(join(SHIPPED, 'uptime-kuma.yaml'), join(dir, 'uptime-kuma.yaml'));
      env = testEnvironment({ CATALOG_DIR: dir }, variant);
      await resetState(env, variant);
      a = await startApp(env);
      b = await startApp(env);
      admin = await loginAdmin(a);
      user = await createUser(a, admin);
      redis = new Redis(env.REDIS_URL ?? '');
    });
    afterAll(async () => {
      redis?.disconnect();
      await a?.close();
      await b?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it('both replicas start with the catalog directory they were given', async () => {
      expect(await listIds(a)).toEqual(['uptime-kuma', 'whoami']);
      expect(await listIds(b)).toEqual(['uptime-kuma', 'whoami']);
    });

    it('is for admins only: 401 anonymous, 403 for a user', async () => {
      expectError(await reload(a), 401);
      expectError(await reload(a, user), 403);
    });

    it('reloads on every replica, keeps the valid apps and reports the bad files', async () => {
      await copyFile(join(SHIPPED, 'grafana.yaml'), join(dir, 'grafana.yaml'));
      await writeFile(join(dir, 'broken.yaml'), 'id: broken\nname: [unclosed\n');
      const whoami = await readFile(join(SHIPPED, 'whoami.yaml'), 'utf8');
      await writeFile(
        join(dir, 'pinned.yaml'),
        whoami
          .replace('id: whoami', 'id: pinned')
          .replace('traefik/whoami:v1.10.3', 'traefik/whoami:latest'),
      );
      const res = await reload(a, admin);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        loaded: 3,
        errors: [
          { file: 'broken.yaml', message: expect.stringMatching(/^invalid YAML at line \d+: /) },
          {
            file: 'pinned.yaml',
            message: 'compose.services.whoami.image: must not use the "latest" tag: pin a version',
          },
        ],
      });
      expect(await listIds(a)).toEqual(['grafana', 'uptime-kuma', 'whoami']);
      // The other replica did not take the request; Redis told it to reload.
      await waitFor(async () => (await listIds(b)).includes('grafana'));
      expect(await listIds(b)).toEqual(['grafana', 'uptime-kuma', 'whoami']);
      expect((await b.http().get('/api/catalog/grafana')).status).toBe(200);
    });

    it('answers 429 with Retry-After to a second reload within 10 s, on any replica', async () => {
      await openWindow();
      expect((await reload(a, admin)).status).toBe(200);
      for (const t of [a, b]) {
        const res = await reload(t, admin);
        expectError(res, 429);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(10);
      }
    });

    it('sets the window with an expiry, so it ends by itself', async () => {
      await openWindow();
      expect((await reload(b, admin)).status).toBe(200);
      const ttl = await redis.pttl(`${env.REDIS_PREFIX}:${RELOAD_WINDOW_KEY}`);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(RELOAD_WINDOW_MS);
    });

    it('records the reload in the audit log', async () => {
      const audited = () => a.http().get('/api/audit?action=catalog.reload').set(bearer(admin));
      const before = (await audited()).body.total as number;
      await openWindow();
      expect((await reload(a, admin)).status).toBe(200);
      const res = await audited();
      expect(res.body.total).toBe(before + 1);
      expect(res.body.items[0]).toMatchObject({
        actorId: admin.userId,
        resourceType: 'catalog',
        outcome: 'success',
      });
    });

    it('coalesces 10 parallel reloads into one load whose result all of them get', async () => {
      await openWindow();
      // Hold the load until all ten requests have reached the service, so the
      // test proves coalescing instead of depending on timing.
      const service = a.app.get(CatalogReloadService);
      const loader = a.app.get(CatalogLoader);
      const load = loader.load.bind(loader);
      let release: () => void = () => undefined;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const loads = jest.spyOn(loader, 'load').mockImplementation(() => gate.then(load));
      const calls = jest.spyOn(service, 'reload');
      try {
        // `.then` sends each request now, without waiting for its answer.
        const pending = Array.from({ length: 10 }, () => reload(a, admin).then((res) => res));
        await waitFor(() => Promise.resolve(calls.mock.calls.length === 10));
        release();
        const responses = await Promise.all(pending);
        expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
        for (const res of responses) expect(res.body).toEqual(responses[0].body);
        expect(responses[0].body).toEqual({ loaded: 3, errors: expect.any(Array) });
        expect(loads).toHaveBeenCalledTimes(1);
      } finally {
        loads.mockRestore();
        calls.mockRestore();
      }
      // The load finished: within the window the next call is refused.
      expectError(await reload(a, admin), 429);
    });

    it('reloads when its signal connection comes back: a signal may have been missed', async () => {
      const added = join(dir, 'gitea.yaml');
      await copyFile(join(SHIPPED, 'gitea.yaml'), added);
      try {
        // No reload request: only a reconnect can make the replicas read the directory.
        const clients = (await redis.client('LIST')) as string;
        const subscribers = clients
          .split('\n')
          .filter((line) =>
            line.includes(` name=${catalogSubscriberName(env.REDIS_PREFIX ?? '')} `),
          )
          .map((line) => /\bid=(\d+)/.exec(line)?.[1] ?? '');
        expect(subscribers).toHaveLength(2);
        for (const id of subscribers) await redis.client('KILL', 'ID', id);
        for (const t of [a, b]) {
          await waitFor(async () => (await listIds(t)).includes('gitea'), 15_000);
        }
      } finally {
        await rm(added);
      }
    });
  });
});
