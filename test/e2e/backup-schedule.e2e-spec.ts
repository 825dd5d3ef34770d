import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { EntityManager } from '@mikro-orm/postgresql';
import { SCHEDULED_BACKUP_JOB, ScheduleTicks } from '../../src/backups/schedule/schedule-ticks';
import { QueueName } from '../../src/queue/queue-names';
import { allocate, allocationRequest, createHost } from '../support/applications';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

/** The schedule API on its own (API role): rows and the timers Bull keeps for them. */
describe('backup schedules', () => {
  let t: TestApp;
  let admin: Session;
  let owner: Session;
  let other: Session;
  let appId: string;

  beforeAll(async () => {
    t = await startFreshApp({ PROXIMITY_ROLE: 'api' }, 'schedapi');
    admin = await loginAdmin(t);
    owner = await createUser(t, admin);
    other = await createUser(t, admin);
    const hostId = await createHost(t, admin, 'sched', { vmidMin: 41000, vmidMax: 41999 });
    appId = (await allocate(t, allocationRequest(owner, hostId, 'nightly'))).application.id;
  });
  afterAll(() => t?.close());

  const path = () => `/api/apps/${appId}/backup-schedule`;
  const put = (session: Session | null, body: unknown) => {
    const req = t
      .http()
      .put(path())
      .send(body as object);
    return session ? req.set(bearer(session)) : req;
  };
  const timers = async () =>
    (await t.app.get<Queue>(getQueueToken(QueueName.Maintenance)).getRepeatableJobs())
      .filter((j) => j.name === SCHEDULED_BACKUP_JOB)
      .map((j) => ({ cron: j.cron, tz: j.tz }));

  it('answers 404 while the application has no schedule, and refuses others', async () => {
    expectError(await t.http().get(path()).set(bearer(owner)), 404);
    expectError(await t.http().get(path()), 401);
    expectError(await put(null, { cron: '0 3 * * *', keepLast: 7 }), 401);
    expectError(await put(other, { cron: '0 3 * * *', keepLast: 7 }), 404);
    expectError(await t.http().delete(path()).set(bearer(other)), 404);
    expectError(await t.http().get('/api/apps/not-a-uuid/backup-schedule').set(bearer(owner)), 400);
    expect(await timers()).toEqual([]);
  });

  it('creates a schedule with defaults and a timer that Bull keeps in UTC', async () => {
    const res = await put(owner, { cron: '0 3 * * *', keepLast: 7 });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      cron: '0 3 * * *',
      keepLast: 7,
      mode: 'snapshot',
      compress: 'zstd',
      enabled: true,
      nextRunAt: expect.stringMatching(/T03:00:00\.000Z$/) as unknown,
    });
    expect((await t.http().get(path()).set(bearer(owner))).body).toEqual(res.body);
    expect((await t.http().get(path()).set(bearer(other))).status).toBe(404);
    expect((await t.http().get(path()).set(bearer(admin))).status).toBe(200);
    expect(await timers()).toEqual([{ cron: '0 3 * * *', tz: 'UTC' }]);
  });

  it('replaces it: one row, one timer with the new cron; disabled has no timer', async () => {
    const res = await put(admin, {
      cron: '30 1 * * 0',
      keepLast: 2,
      mode: 'stop',
      compress: 'gzip',
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      cron: '30 1 * * 0',
      keepLast: 2,
      mode: 'stop',
      compress: 'gzip',
    });
    expect(await timers()).toEqual([{ cron: '30 1 * * 0', tz: 'UTC' }]);
    const off = await put(owner, { cron: '30 1 * * 0', keepLast: 2, enabled: false });
    expect(off.body).toMatchObject({ enabled: false, nextRunAt: null });
    expect(await timers()).toEqual([]);
    await put(owner, { cron: '0 4 * * *', keepLast: 3 });
    expect(await timers()).toEqual([{ cron: '0 4 * * *', tz: 'UTC' }]);
  });

  it('keeps one row and one timer when two changes arrive together', async () => {
    const [a, b] = await Promise.all([
      put(owner, { cron: '0 5 * * *', keepLast: 4 }),
      put(admin, { cron: '0 6 * * *', keepLast: 5 }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const now = (await t.http().get(path()).set(bearer(owner))).body as { cron: string };
    const count = await t.app
      .get(EntityManager)
      .getConnection()
      .execute<{ n: string }[]>(
        'select count(*) as n from backup_schedule where application_id = ?',
        [appId],
      );
    expect(Number(count[0].n)).toBe(1);
    await t.app.get(ScheduleTicks).sync();
    expect(await timers()).toEqual([{ cron: now.cron, tz: 'UTC' }]);
    await put(owner, { cron: '0 4 * * *', keepLast: 3 });
  });

  it('puts a timer Redis lost back from the rows', async () => {
    const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    for (const job of await queue.getRepeatableJobs()) await queue.removeRepeatableByKey(job.key);
    expect(await timers()).toEqual([]);
    expect(await t.app.get(ScheduleTicks).sync()).toEqual({ added: 1, removed: 0 });
    expect(await timers()).toEqual([{ cron: '0 4 * * *', tz: 'UTC' }]);
    expect(await t.app.get(ScheduleTicks).sync()).toEqual({ added: 0, removed: 0 });
  });

  it('refuses bad bodies with the field named', async () => {
    const bad: [unknown, string][] = [
      [{ cron: 'daily', keepLast: 3 }, 'cron'],
      [{ cron: '* * * *', keepLast: 3 }, 'cron'],
      [{ cron: '*/10 * * * * *', keepLast: 3 }, 'cron'],
      [{ cron: '0 3 * * *', keepLast: 0 }, 'keepLast'],
      [{ cron: '0 3 * * *', keepLast: 101 }, 'keepLast'],
      [{ cron: '0 3 * * *', keepLast: 2.5 }, 'keepLast'],
      [{ cron: '0 3 * * *', keepLast: 3, mode: 'fast' }, 'mode'],
      [{ cron: '0 3 * * *', keepLast: 3, compress: 'xz' }, 'compress'],
      [{ cron: '0 3 * * *', keepLast: 3, enabled: null }, 'enabled'],
      [{ cron: 'x'.repeat(121), keepLast: 3 }, 'cron'],
      [{ keepLast: 3 }, 'cron'],
    ];
    for (const [body, field] of bad) {
      const err = expectError(await put(owner, body), 400);
      expect(err.details?.map((d) => d.field)).toContain(field);
    }
    expectError(await put(owner, { cron: '0 3 * * *', keepLast: 3, extra: 1 }), 400);
    // Nothing changed.
    expect((await t.http().get(path()).set(bearer(owner))).body).toMatchObject({
      cron: '0 4 * * *',
    });
  });

  it('deletes it with its timer', async () => {
    expect((await t.http().delete(path()).set(bearer(owner))).status).toBe(204);
    expectError(await t.http().get(path()).set(bearer(owner)), 404);
    expectError(await t.http().delete(path()).set(bearer(owner)), 404);
    expect(await timers()).toEqual([]);
  });
});
