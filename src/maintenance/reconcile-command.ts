import Bull from 'bull';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/app-config';
import { QueueName } from '../queue/queue-names';
import { RECONCILE_JOB } from './maintenance.processor';
import type { ReconcileSummary } from './reconciler';

/** A pass that no worker took up or finished in this long is reported as not run. */
export const RECONCILE_WAIT_MS = 10 * 60_000;

export class ReconcileNotRunError extends Error {}

/**
 * Asks a worker for one reconcile pass and waits for its summary: the pass
 * runs where the Proxmox and queue services live, under the same lock as the
 * scheduled one.
 */
export async function requestReconcile(
  config: AppConfig,
  waitMs = RECONCILE_WAIT_MS,
): Promise<ReconcileSummary> {
  const queue = new Bull(QueueName.Maintenance, config.redis.url, {
    prefix: `${config.redis.prefix}:bull`,
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const job = await queue.add(
      RECONCILE_JOB,
      {},
      { jobId: `cli-${randomUUID()}`, attempts: 1, removeOnComplete: true, removeOnFail: true },
    );
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ReconcileNotRunError(
              `no worker finished the reconcile pass within ${Math.round(waitMs / 1000)} s; is a worker running?`,
            ),
          ),
        waitMs,
      );
    });
    try {
      return (await Promise.race([job.finished(), timeout])) as ReconcileSummary;
    } catch (err) {
      // Not taken up: it must not run later, long after the caller gave up.
      if (err instanceof ReconcileNotRunError) await job.remove().catch(() => undefined);
      throw err;
    }
  } finally {
    clearTimeout(timer);
    await queue.close();
  }
}
