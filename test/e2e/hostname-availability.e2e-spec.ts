import { EntityManager } from '@mikro-orm/postgresql';
import type { Response } from 'supertest';
import { Application } from '../../src/applications/application.entity';
import { ApplicationStatus } from '../../src/applications/application-status';
import { allocate, allocationRequest, createHost } from '../support/applications';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

describe('GET /api/apps/hostname-availability', () => {
  let t: TestApp;
  let owner: Session;
  let other: Session;
  let hostId: string;
  let ownersApp: { id: string; ownerId: string };

  const check = (hostname: string, auth?: Session | string): Promise<Response> => {
    const req = t.http().get('/api/apps/hostname-availability').query({ hostname });
    return auth ? req.set(bearer(auth)) : req;
  };

  beforeAll(async () => {
    t = await startFreshApp();
    const admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    hostId = await createHost(t, admin, 'availability', { vmidMin: 41000, vmidMax: 41999 });
    const app = (await allocate(t, allocationRequest(owner, hostId, 'team-wiki'))).application;
    ownersApp = { id: app.id, ownerId: owner.userId };
  });
  afterAll(() => t?.close());

  it('a free hostname is available, with no reason', async () => {
    const res = await check('fresh-name', other);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hostname: 'fresh-name', available: true });
  });

  it("another user's hostname is taken, in plain words, without its owner or id", async () => {
    const res = await check('team-wiki', other);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      hostname: 'team-wiki',
      available: false,
      reason: 'this hostname is taken by another application',
    });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(ownersApp.id);
    expect(text).not.toContain(ownersApp.ownerId);
    expect(text).not.toContain(owner.username);
  });

  it('an upper-case label is refused, as the deploy refuses it', async () => {
    expectError(await check('Team-Wiki', other), 400, ['hostname']);
  });

  it('a live hostname in other case (an adopted container keeps its own) is taken', async () => {
    await allocate(t, allocationRequest(owner, hostId, 'Adopted-Box'));
    expect((await check('adopted-box', other)).body).toMatchObject({ available: false });
  });

  it.each([
    ['-leading', 'a leading hyphen'],
    ['a'.repeat(64), '64 characters'],
    ['has_underscore', 'an underscore'],
    ['', 'an empty label'],
  ])('400 in the envelope for %s (%s)', async (hostname) => {
    const body = expectError(await check(hostname, other), 400, ['hostname']);
    expect(body.details?.[0].message).toBe(
      'hostname must be 1..63 characters of a-z, 0-9 and -, not starting or ending with -',
    );
  });

  it('400 without the hostname, or with an unknown query key', async () => {
    expectError(await t.http().get('/api/apps/hostname-availability').set(bearer(other)), 400, [
      'hostname',
    ]);
    expectError(
      await t
        .http()
        .get('/api/apps/hostname-availability')
        .query({ hostname: 'ok', owner: 'x' })
        .set(bearer(other)),
      400,
    );
  });

  it('401 without a token', async () => {
    expectError(await check('team-wiki'), 401);
  });

  it('a read-scoped personal token may ask', async () => {
    const created = await t
      .http()
      .post('/api/auth/tokens')
      .set(bearer(other))
      .send({ name: 'availability', scope: 'read' });
    expect(created.status).toBe(201);
    const res = await check('team-wiki', (created.body as { token: string }).token);
    expect(res.status).toBe(200);
    expect((res.body as { available: boolean }).available).toBe(false);
  });

  it('a hostname is free again once its application is being removed, then deleted', async () => {
    const app = (await allocate(t, allocationRequest(owner, hostId, 'short-lived'))).application;
    expect((await check('short-lived', other)).body).toMatchObject({ available: false });
    const em = t.app.get(EntityManager).fork();
    await em.nativeUpdate(Application, { id: app.id }, { status: ApplicationStatus.Removing });
    expect((await check('short-lived', other)).body).toMatchObject({ available: true });
    await em.nativeDelete(Application, { id: app.id });
    expect((await check('short-lived', other)).body).toEqual({
      hostname: 'short-lived',
      available: true,
    });
  });

  it('an available answer agrees with the deploy: the hostname can be allocated', async () => {
    expect((await check('agreed', other)).body).toMatchObject({ available: true });
    await allocate(t, allocationRequest(other, hostId, 'agreed'));
    expect((await check('agreed', owner)).body).toMatchObject({ available: false });
  });
});
