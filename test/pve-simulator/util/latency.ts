/** The latencies `/_sim/latency` reads and sets. */
export interface Latency {
  /** How long every Proxmox task runs (and package installations inside containers). */
  taskMs: number;
  /** Added before every API answer. */
  httpMs: number;
  /** Added before every SSH command. */
  sshMs: number;
  /**
   * How long lock_config waits for a guest's config file lock before `got timeout`
   * (pve-guest-common AbstractConfig::lock_config: 10 s; create_and_lock_config waits half).
   */
  lockWaitMs: number;
}

export const DEFAULT_LATENCY: Readonly<Latency> = Object.freeze({
  taskMs: 50,
  httpMs: 0,
  sshMs: 0,
  lockWaitMs: 10_000,
});

const LATENCY_FIELDS: ReadonlySet<string> = new Set(Object.keys(DEFAULT_LATENCY));

export function parseLatencyUpdate(body: unknown): Partial<Latency> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'body must be a JSON object';
  }
  const update: Partial<Latency> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (!LATENCY_FIELDS.has(key)) return `unknown field '${key}'`;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 3_600_000) {
      return `${key} must be an integer between 0 and 3600000`;
    }
    update[key as keyof Latency] = value;
  }
  return update;
}
