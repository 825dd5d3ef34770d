/**
 * The load-and-fault soak at full size: SOAK_DEPLOYS deployments (default
 * 200) with lifecycle actions, clones and backups from SOAK_USERS users
 * (default 20) against the simulator with Proxmox task timings and 10%
 * random faults, while a worker is killed, Redis is restarted and the
 * database is cut off once each, and a 3-port host runs out of ports. The
 * API and two workers run as child processes on a scratch database and a
 * Redis server of their own. Prints the figures; exits 1 when the end state
 * shows a leak or an unsettled application.
 *
 *   npm run bench:soak
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/load-config';
import { migrate } from '../src/database/migrate';
import { runSoak, type SoakFigures } from '../test/soak/soak';
import {
  BENCH_ADMIN_URL,
  percentile,
  scratchDatabaseUrl,
  withAdmin,
} from '../test/bench/scratch-database';

const DATABASE = 'proximity_bench_soak';
const DEPLOYS = Number(process.env.SOAK_DEPLOYS ?? 200);
const USERS = Number(process.env.SOAK_USERS ?? 20);
const TASK_MS = Number(process.env.SOAK_TASK_MS ?? 400);

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function report(f: SoakFigures): string {
  const { statuses, ...counts } = f.endState;
  const leaks = Object.entries(counts).map(([name, n]) => `${name} ${n}`);
  return [
    `deploys: ${f.deploys.requested} requested, ${f.deploys.accepted} accepted, ${f.deploys.refused} refused; end states ${JSON.stringify(statuses)}`,
    `deploy time (request to running): p50 ${seconds(percentile(f.deploys.timesMs, 0.5))}, p95 ${seconds(percentile(f.deploys.timesMs, 0.95))} over ${f.deploys.timesMs.length}`,
    `tiny host: ${f.tiny.requested} requested, ${f.tiny.accepted} accepted, ${f.tiny.refused} refused (409/503 in the envelope), ${f.tiny.badRefusals} other refusals`,
    `actions: ${f.actions.accepted} of ${f.actions.requested} accepted; clones ${f.clones.accepted} of ${f.clones.requested}; backups ${f.backups.accepted} of ${f.backups.requested} (${f.backups.completed} completed, ${f.backups.failed} failed)`,
    `write answers by status: ${JSON.stringify(f.writeStatuses)}`,
    `faults fired: ${f.faultsFired}; retries ${f.retries}; operations failed (compensated) ${f.failedOperations}`,
    `worker killed and started again in ${seconds(f.workerRestartMs)}`,
    ...f.outages.map(
      (o) =>
        `${o.kind} outage ${seconds(o.durationMs)}: readiness 503 during it ${o.sawNotReady ? 'yes' : 'NO'}, 200 again ${o.readyAgainAfterMs === null ? 'NEVER' : `${seconds(o.readyAgainAfterMs)} after`}`,
    ),
    `readiness transitions: ${f.readinessTransitions}`,
    `last reconcile pass: ${f.reconcile ? JSON.stringify(f.reconcile) : 'did not run'}`,
    `errors by last error: ${JSON.stringify(f.errors)}`,
    `applications in error still holding a VMID (with or without its container): ${f.errorsHoldingVmid}`,
    `end state: ${leaks.join(', ')}`,
    `total ${seconds(f.totalMs)}`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
  await withAdmin(`create database "${DATABASE}"`);
  try {
    await migrate(
      loadConfig({
        DATABASE_URL: scratchDatabaseUrl(DATABASE),
        JWT_SECRET: randomBytes(32).toString('hex'),
        PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      }),
    );
    const figures = await runSoak({
      deploys: DEPLOYS,
      users: USERS,
      taskMs: TASK_MS,
      seed: Number(process.env.SOAK_SEED ?? 13),
      database: DATABASE,
      adminUrl: BENCH_ADMIN_URL,
      vmidMin: 1000,
      ports: [20_000, 21_899],
      tinyPorts: [21_900, 21_902],
      tinyExtra: 5,
      outageMs: 5000,
      gapMs: 15_000,
      settleMs: 15 * 60_000,
      deadlineSeconds: 180,
      log: (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
    });
    process.stdout.write(report(figures));
    const { statuses, ...counts } = figures.endState;
    const bad = Object.values(counts).some((n) => n !== 0) || statuses.running === undefined;
    if (bad) process.exitCode = 1;
  } finally {
    await withAdmin(`drop database if exists "${DATABASE}" with (force)`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  process.exit(1);
});
