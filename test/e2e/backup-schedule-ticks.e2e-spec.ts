import { EntityManager } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Job, Queue } from 'bull';
import { ScheduledBackupProcessor } from '../../src/backups/schedule/scheduled-backup.processor';
import { SCHEDULED_BACKUP_JOB } from '../../src/backups/schedule/schedule-ticks';
import { QueueName } from '../../src/queue/queue-names';
import { SimulatorFixture } from '../pve-simulator/testing/simulator-fixture';
import { type AppBody, settled } from '../support/deployments';
import { registerDeployHost } from '../support/hosts';
import { spawnEntry, waitFor, type Spawned } from '../support/spawn-app';
import { resetState, startApp, testEnvironment, type TestApp } from '../support/test-app';
import { bearer, createUser, loginAdmin, type Session } from '../support/users';

const VARIANT = 'ticks';
const KEEP_LAST = 2;

interface BackupBody {
  id: string;
  status: string;
  scheduled: boolean;
  volid: string | null;
}

/**
 * A schedule every four seconds with two worker processes: Bull delivers
 * each tick once, each tick starts one backup, and after each scheduled
 * backup the older scheduled ones beyond keepLast go (archives and rows);
 * a manual backup is never pruned.
 */
describe('backup schedules with two workers', () => {
  const env = testEnvironment(
    { LOG_LEVEL: 'warn', BACKUP_SCHEDULE_MIN_INTERVAL_SECONDS: '1' },
    VARIANT,
  );
  let api: TestApp;
  let sim: SimulatorFixture;
  let user: Session;
  let workers: Spawned[] = [];

  beforeAll(async () => {
    await resetState(env, VARIANT);
    api = await startApp({ ...env, PROXIMITY_ROLE: 'api' });
    sim = await SimulatorFixture.start({ latency: { taskMs: 10, dhcpLeaseMs: 100 } });
    const admin = await loginAdmin(api);
    user = await createUser(api, admin);
    await registerDeployHost(api, admin, sim.sim, 'pve-ticks', 710_000, [32_300, 32_349]);
    workers = [1, 2].map(() =>
      spawnEntry('src/main.ts', { ...env, PROXIMITY_ROLE: 'worker', PORT: '0' }),
    );
  });
  afterAll(async () => {
    for (const w of workers) w.child.kill('SIGTERM');
    await Promise.all(workers.map((w) => w.exited));
    await api?.close();
    await sim?.close();
  });

  const sql = () => api.app.get(EntityManager).getConnection();
  const backups = async (appId: string): Promise<BackupBody[]> => {
    const res = await api.http().get(`/api/apps/${appId}/backups?perPage=100`).set(bearer(user));
    return (res.body as { items: BackupBody[] }).items;
  };
  /** The outcome of every tick Bull delivered, by the tick's own time. */
  const ticks = async (): Promise<Map<number, string[]>> => {
    const queue = api.app.get<Queue>(getQueueToken(QueueName.Maintenance));
    const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting']);
    const byTick = new Map<number, string[]>();
    for (const job of jobs.filter((j) => j.name === SCHEDULED_BACKUP_JOB)) {
      const tick = (job.opts as { prevMillis?: number }).prevMillis ?? 0;
      byTick.set(tick, [...(byTick.get(tick) ?? []), String(job.returnvalue)]);
    }
    return byTick;
  };

  it('starts one backup per tick and keeps the last scheduled ones, never a manual one', async () => {
    const deployed = await api
      .http()
      .post('/api/apps')
      .set(bearer(user))
      .send({ catalogId: 'whoami', hostname: 'nightly' });
    expect(deployed.status).toBe(202);
    const app = await settled(api, user, (deployed.body as AppBody).id, 120_000);
    expect(app.status).toBe('running');
    const manual = await api
      .http()
      .post(`/api/apps/${app.id}/backups`)
      .set(bearer(user))
      .send({ notes: 'by hand' });
    expect(manual.status).toBe(202);
    await waitFor(
      async () => (await backups(app.id)).some((b) => b.status === 'completed'),
      60_000,
      200,
    );

    const put = await api
      .http()
      .put(`/api/apps/${app.id}/backup-schedule`)
      .set(bearer(user))
      .send({ cron: '*/4 * * * * *', keepLast: KEEP_LAST });
    expect(put.status).toBe(200);
    const started = async () =>
      [...(await ticks()).values()].flat().filter((outcome) => outcome === 'started').length;
    await waitFor(async () => (await started()) >= 4, 90_000, 500);
    const off = await api
      .http()
      .put(`/api/apps/${app.id}/backup-schedule`)
      .set(bearer(user))
      .send({ cron: '*/4 * * * * *', keepLast: KEEP_LAST, enabled: false });
    expect(off.status).toBe(200);
    // The last scheduled backup and its pruning end.
    await waitFor(
      async () => (await backups(app.id)).every((b) => b.status === 'completed'),
      60_000,
      200,
    );

    const byTick = await ticks();
    // Each tick delivered once, to one of the two workers, with one outcome.
    for (const outcomes of byTick.values()) expect(outcomes).toHaveLength(1);
    const startedTicks = [...byTick.values()].filter(([o]) => o === 'started').length;
    const systemBackups = await sql().execute<{ n: string }[]>(
      `select count(*) as n from operation where application_id = ? and type = 'backup' and actor_id is null`,
      [app.id],
    );
    expect(Number(systemBackups[0].n)).toBe(startedTicks);

    const kept = await backups(app.id);
    const scheduled = kept.filter((b) => b.scheduled);
    expect(scheduled).toHaveLength(KEEP_LAST);
    expect(kept.filter((b) => !b.scheduled)).toEqual([
      expect.objectContaining({ id: (manual.body as BackupBody).id, status: 'completed' }),
    ]);
    const archives = (await sim.state()).backups
      .filter((volid) => volid.includes(`vzdump-lxc-${app.vmid}-`))
      .sort();
    expect(archives).toEqual(kept.map((b) => b.volid).sort());
  }, 240_000);

  it('starts one backup for a tick delivered twice, and none for an older one', async () => {
    const worker = await startApp({ ...env, PROXIMITY_ROLE: 'worker' });
    try {
      const [app] = (
        (await api.http().get('/api/apps').set(bearer(user))).body as { items: AppBody[] }
      ).items;
      const put = await api
        .http()
        .put(`/api/apps/${app.id}/backup-schedule`)
        .set(bearer(user))
        .send({ cron: '0 0 1 1 *', keepLast: KEEP_LAST });
      expect(put.status).toBe(200);
      const [{ id: scheduleId }] = await sql().execute<{ id: string }[]>(
        'select id from backup_schedule where application_id = ?',
        [app.id],
      );
      const systemBackups = async () =>
        Number(
          (
            await sql().execute<{ n: string }[]>(
              `select count(*) as n from operation where application_id = ? and type = 'backup' and actor_id is null`,
              [app.id],
            )
          )[0].n,
        );
      const before = await systemBackups();
      const processor = worker.app.get(ScheduledBackupProcessor);
      // A tick as Bull hands it over: the schedule's id and the tick's own time.
      const delivery = (tick: number) =>
        ({ data: { scheduleId }, opts: { prevMillis: tick }, timestamp: tick }) as unknown as Job<{
          scheduleId: string;
        }>;
      const tick = Date.now();
      expect(await processor.tick(delivery(tick))).toBe('started');
      expect(await processor.tick(delivery(tick))).toBe('already-ran');
      expect(await processor.tick(delivery(tick - 60_000))).toBe('already-ran');
      expect(await systemBackups()).toBe(before + 1);
      await waitFor(
        async () => (await backups(app.id)).every((b) => b.status === 'completed'),
        60_000,
        200,
      );
    } finally {
      await worker.close();
    }
  }, 120_000);
});
