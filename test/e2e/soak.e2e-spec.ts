import { dropDatabase, recreateFromTemplate, workerDatabase } from '../support/databases';
import { runSoak, type SoakFigures } from '../soak/soak';

const ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = workerDatabase('soak');

/**
 * The soak of `npm run bench:soak`, small: 30 deployments from 5 users with
 * lifecycle actions, clones and backups under 10% random Proxmox faults,
 * while a worker is killed, Redis is restarted and the database is cut off
 * once each, and a 3-port host runs out of ports. Only the end state is
 * judged here; the bench prints the timings.
 */
describe('soak: load and faults, small', () => {
  let figures: SoakFigures;

  beforeAll(async () => {
    await recreateFromTemplate(DATABASE);
    figures = await runSoak({
      deploys: 30,
      users: 5,
      taskMs: 50,
      seed: 13,
      database: DATABASE,
      adminUrl: ADMIN_URL,
      vmidMin: 685_000,
      ports: [32_620, 32_699],
      tinyPorts: [32_440, 32_442],
      tinyExtra: 3,
      outageMs: 3000,
      gapMs: 3000,
      settleMs: 150_000,
      deadlineSeconds: 60,
      log: () => undefined,
    });
  }, 400_000);
  afterAll(() => dropDatabase(DATABASE));

  it('did the work it was asked, with faults firing', () => {
    expect(figures.deploys.requested).toBe(30);
    expect(figures.deploys.accepted).toBeGreaterThan(0);
    expect(figures.actions.accepted).toBeGreaterThan(0);
    expect(figures.clones.accepted).toBeGreaterThan(0);
    expect(figures.backups.accepted).toBeGreaterThan(0);
    expect(figures.faultsFired).toBeGreaterThan(0);
  });

  it('refuses what the tiny host cannot hold with a clear 409/503, never another error', () => {
    expect(figures.tiny).toMatchObject({ requested: 6, accepted: 3, refused: 3, badRefusals: 0 });
  });

  it('answers no write with a 5xx other than 503', () => {
    const other5xx = Object.entries(figures.writeStatuses).filter(
      ([status]) => Number(status) >= 500 && Number(status) !== 503,
    );
    expect(other5xx).toEqual([]);
  });

  it('leaves every application running, stopped or error, and every operation ended', () => {
    const { statuses, unsettled, openOperations, openPastDeadline } = figures.endState;
    expect(Object.keys(statuses).every((s) => ['running', 'stopped', 'error'].includes(s))).toBe(
      true,
    );
    expect({ unsettled, openOperations, openPastDeadline }).toEqual({
      unsettled: 0,
      openOperations: 0,
      openPastDeadline: 0,
    });
  });

  it('leaks no VMID, container, snapshot, forwarding rule, port or backup', () => {
    const { statuses, ...counts } = figures.endState;
    expect(statuses.running).toBeGreaterThan(0);
    expect(counts).toEqual({
      unsettled: 0,
      leakedVmids: 0,
      statusMismatches: 0,
      leakedContainers: 0,
      leakedSnapshots: 0,
      leakedRules: 0,
      leakedPorts: 0,
      missingRules: 0,
      leakedBackups: 0,
      attemptsOverMax: 0,
      openOperations: 0,
      openPastDeadline: 0,
    });
  });

  it('went not-ready during each outage and ready again after it', () => {
    expect(
      figures.outages.map((o) => [o.kind, o.sawNotReady, o.readyAgainAfterMs !== null]),
    ).toEqual([
      ['redis', true, true],
      ['postgresql', true, true],
    ]);
  });
});
