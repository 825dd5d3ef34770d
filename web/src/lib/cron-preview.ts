/** What the schedule editor shows under the cron field: the next runs, or why there are none. */
export type CronPreview = { ok: true; runs: Date[] } | { ok: false; reason: string };

/**
 * The next `count` runs of a backup schedule's cron, read in UTC as the API reads it. cron-parser
 * (and luxon under it) is loaded on first use, in its own chunk: only the schedule editor needs it.
 */
export async function previewRuns(
  expression: string,
  count: number,
  from: Date = new Date(),
): Promise<CronPreview> {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return {
      ok: false,
      reason: 'Five fields (minute hour day month weekday), or six with seconds first.',
    };
  }
  const { parseExpression } = await import('cron-parser');
  const runs: Date[] = [];
  try {
    const cron = parseExpression(expression.trim(), { currentDate: from, utc: true });
    while (runs.length < count && cron.hasNext()) runs.push(cron.next().toDate());
  } catch {
    return { ok: false, reason: 'This is not a valid cron expression.' };
  }
  if (runs.length === 0) return { ok: false, reason: 'This schedule never runs.' };
  return { ok: true, runs };
}
