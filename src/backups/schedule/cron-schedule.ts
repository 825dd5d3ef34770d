import { parseExpression } from 'cron-parser';

/** Schedules are read in UTC, whatever the server's zone, so a schedule means the same on every worker. */
export const SCHEDULE_TIME_ZONE = 'UTC';

// Short gaps come from the minute and second lists, which repeat in every hour
// that runs: this many runs span such an hour for any schedule that keeps a
// minimum interval of a minute or more (cron-parser takes about 0.5 ms a run).
const GAPS_CHECKED = 120;

export type CronCheck = { ok: true } | { ok: false; reason: string };

/**
 * Whether `expression` is a cron schedule Proximity runs: five fields
 * (minute hour day-of-month month day-of-week), or six with seconds first,
 * with at least `minIntervalSeconds` between two runs, so a schedule cannot
 * keep a node's one vzdump slot busy.
 */
export function checkCron(expression: string, minIntervalSeconds: number): CronCheck {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return { ok: false, reason: 'must have five fields (minute hour day month weekday)' };
  }
  let runs: Date[];
  try {
    runs = nextRuns(expression, GAPS_CHECKED + 1);
  } catch {
    return { ok: false, reason: 'is not a valid cron expression' };
  }
  if (runs.length === 0) return { ok: false, reason: 'never runs' };
  for (let i = 1; i < runs.length; i++) {
    if (runs[i].getTime() - runs[i - 1].getTime() < minIntervalSeconds * 1000) {
      return {
        ok: false,
        reason: `runs more often than once every ${minIntervalSeconds} seconds`,
      };
    }
  }
  return { ok: true };
}

/** The next `count` runs after `from` (fewer when the expression ends, as a fixed date does). */
export function nextRuns(expression: string, count: number, from = new Date()): Date[] {
  const cron = parseExpression(expression, { currentDate: from, utc: true });
  const runs: Date[] = [];
  while (runs.length < count && cron.hasNext()) runs.push(cron.next().toDate());
  return runs;
}
