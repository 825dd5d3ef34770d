import { spawn, type ChildProcess } from 'node:child_process';
import Redis from 'ioredis';
import { Client } from 'pg';
import { sleep } from '../../src/common/time/poll';
import { waitFor } from '../support/spawn-app';

/**
 * A Redis server of the soak's own (the shared one on 6379 serves other
 * tests and must never go down): no persistence, so a restart loses every
 * queued job, the harsh case the reconciler has to recover from.
 */
export class OwnRedis {
  private child: ChildProcess | null = null;

  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    await waitFor(async () => {
      const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0 });
      // Refused until the server listens: the rejected connect() says so already.
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } finally {
        probe.disconnect();
      }
    }, 15_000);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('close', () => resolve());
      child.kill('SIGKILL');
    });
  }
}

/**
 * PostgreSQL unreachable for one database without touching the shared
 * server: new connections refused, and the open ones terminated again and
 * again for `ms`.
 */
export async function databaseOutage(adminUrl: string, database: string, ms: number) {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  const name = `"${database.replace(/"/g, '""')}"`;
  try {
    await admin.query(`alter database ${name} with allow_connections false`);
    const end = Date.now() + ms;
    do {
      await admin.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
        [database],
      );
      await sleep(250);
    } while (Date.now() < end);
  } finally {
    await admin.query(`alter database ${name} with allow_connections true`);
    await admin.end();
  }
}

export interface ReadinessSample {
  at: number;
  /** HTTP status, or 0 when the request failed or timed out. */
  status: number;
}

export interface OutageVerdict {
  kind: string;
  durationMs: number;
  /** Readiness answered 503 while the dependency was down. */
  sawNotReady: boolean;
  /** Time from the end of the outage to the first 200 after it; null if it never came back. */
  readyAgainAfterMs: number | null;
}

/** Polls /health/ready throughout the soak, to judge each outage afterwards. */
export class ReadinessWatch {
  readonly samples: ReadinessSample[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly url: string,
    private readonly intervalMs = 200,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (this.running) {
        const at = Date.now();
        const status = await fetch(this.url, { signal: AbortSignal.timeout(2_000) }).then(
          async (res) => {
            await res.arrayBuffer();
            return res.status;
          },
          () => 0,
        );
        this.samples.push({ at, status });
        await sleep(this.intervalMs);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  /** The answers during [start, end] (plus the probe's own timeout) and the first 200 after end. */
  verdict(kind: string, start: number, end: number): OutageVerdict {
    const during = this.samples.filter((s) => s.at >= start && s.at <= end);
    const back = this.samples.find((s) => s.at > end && s.status === 200);
    return {
      kind,
      durationMs: end - start,
      sawNotReady: during.some((s) => s.status === 503),
      readyAgainAfterMs: back ? back.at - end : null,
    };
  }

  /** How often the answer changed between 200 and anything else. */
  transitions(): number {
    let count = 0;
    for (let i = 1; i < this.samples.length; i += 1) {
      if ((this.samples[i].status === 200) !== (this.samples[i - 1].status === 200)) count += 1;
    }
    return count;
  }
}
