import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VALID = {
  defaults: { cores: 2, memoryMb: 2048, diskGb: 16, swapMb: 512 },
  limits: { maxCores: 8, maxMemoryMb: 16384, maxDiskGb: 200, maxAppsPerUser: 20 },
  network: {
    ipMode: 'static',
    cidr: '10.20.0.0/24',
    gateway: '10.20.0.1',
    dns: ['10.20.0.1', '2606:4700:4700::1111'],
  },
};

type Body = typeof VALID;
const withChange = (change: (b: Body) => void): Body => {
  const body = structuredClone(VALID);
  change(body);
  return body;
};

describe('settings', () => {
  let t: TestApp;
  let admin: Session;
  let user: Session;

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
    user = await createUser(t, admin);
  });
  afterAll(() => t?.close());

  it('GET answers the defaults to any user, 401 without a token', async () => {
    const res = await t.http().get('/api/settings').set(bearer(user));
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      defaults: { cores: 2, memoryMb: 2048, diskGb: 16, swapMb: 512 },
      limits: { maxCores: 8, maxMemoryMb: 16384, maxDiskGb: 200, maxAppsPerUser: 20 },
      network: { ipMode: 'dhcp', dns: [] },
    });
    expectError(await t.http().get('/api/settings'), 401);
  });

  it('PUT: 403 for a user, 401 anonymous', async () => {
    expectError(await t.http().put('/api/settings').set(bearer(user)).send(VALID), 403);
    expectError(await t.http().put('/api/settings').send(VALID), 401);
  });

  it('PUT by an admin replaces and persists the settings, and is audited', async () => {
    const res = await t.http().put('/api/settings').set(bearer(admin)).send(VALID);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(VALID);
    expect((await t.http().get('/api/settings').set(bearer(user))).body).toEqual(VALID);
    const audit = await t.http().get('/api/audit?action=settings.update').set(bearer(admin));
    expect(audit.body.items[0]).toMatchObject({
      actorId: admin.userId,
      resourceType: 'settings',
      outcome: 'success',
    });
    const dhcp = withChange((b) => {
      b.network = { ipMode: 'dhcp', dns: [] } as unknown as Body['network'];
    });
    expect(
      (await t.http().put('/api/settings').set(bearer(admin)).send(dhcp)).body.network,
    ).toEqual({ ipMode: 'dhcp', dns: [] });
  });

  it.each([
    ['a default above its limit', withChange((b) => (b.defaults.cores = 16)), 'defaults.cores'],
    [
      'memory default above its limit',
      withChange((b) => (b.limits.maxMemoryMb = 1024)),
      'defaults.memoryMb',
    ],
    [
      'disk default above its limit',
      withChange((b) => (b.limits.maxDiskGb = 8)),
      'defaults.diskGb',
    ],
    [
      'static without a CIDR',
      withChange((b) => delete (b.network as Partial<Body['network']>).cidr),
      'network.cidr',
    ],
    [
      'static without a gateway',
      withChange((b) => delete (b.network as Partial<Body['network']>).gateway),
      'network.gateway',
    ],
    [
      'a gateway outside the CIDR',
      withChange((b) => (b.network.gateway = '10.30.0.1')),
      'network.gateway',
    ],
    [
      'the network address as gateway',
      withChange((b) => (b.network.gateway = '10.20.0.0')),
      'network.gateway',
    ],
    ['a malformed CIDR', withChange((b) => (b.network.cidr = '10.20.0.0/33')), 'network.cidr'],
    ['a CIDR with host bits', withChange((b) => (b.network.cidr = '10.20.0.5/24')), 'network.cidr'],
    ['an unknown ipMode', withChange((b) => (b.network.ipMode = 'auto')), 'network.ipMode'],
    [
      'a DNS entry that is not an IP',
      withChange((b) => (b.network.dns = ['dns.example'])),
      'network.dns',
    ],
    [
      'too many DNS servers',
      withChange((b) => (b.network.dns = ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4', '9.9.9.9'])),
      'network.dns',
    ],
    ['zero cores', withChange((b) => (b.defaults.cores = 0)), 'defaults.cores'],
    ['fractional memory', withChange((b) => (b.defaults.memoryMb = 1.5)), 'defaults.memoryMb'],
    [
      'a string number',
      withChange((b) => ((b.limits as Record<string, unknown>).maxAppsPerUser = '20')),
      'limits.maxAppsPerUser',
    ],
    [
      'an unknown nested key',
      withChange((b) => ((b.defaults as Record<string, unknown>).gpu = 1)),
      'defaults.gpu',
    ],
    [
      'an unknown top-level key',
      withChange((b) => ((b as Record<string, unknown>).theme = 'dark')),
      'theme',
    ],
    ['a missing section', withChange((b) => delete (b as Partial<Body>).limits), 'limits'],
    [
      'a null CIDR',
      withChange((b) => ((b.network as Record<string, unknown>).cidr = null)),
      'network.cidr',
    ],
  ])('400 for %s', async (_name, body, field) => {
    const before = (await t.http().get('/api/settings').set(bearer(admin))).body;
    expectError(await t.http().put('/api/settings').set(bearer(admin)).send(body), 400, [field]);
    expect((await t.http().get('/api/settings').set(bearer(admin))).body).toEqual(before);
  });
});
