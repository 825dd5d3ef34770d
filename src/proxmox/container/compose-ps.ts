export interface ComposeServiceState {
  service: string;
  /** `running`, `exited`, `restarting`, `created`, … */
  state: string;
}

function toState(row: unknown): ComposeServiceState[] {
  if (typeof row !== 'object' || row === null) return [];
  const { Service, State } = row as { Service?: unknown; State?: unknown };
  return typeof Service === 'string' && typeof State === 'string'
    ? [{ service: Service, state: State }]
    : [];
}

/**
 * `docker compose ps --format json`: one object per line since compose 2.21,
 * one JSON array before; both are read. Lines that are not JSON (warnings)
 * are skipped.
 */
export function parseComposePs(stdout: string): ComposeServiceState[] {
  const states: ComposeServiceState[] = [];
  for (const line of stdout.split('\n')) {
    const text = line.trim();
    if (!text.startsWith('{') && !text.startsWith('[')) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    const rows: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    states.push(...rows.flatMap(toState));
  }
  return states;
}
