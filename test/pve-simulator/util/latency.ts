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
  /** pvestatd's update interval: `/cluster/resources` and `/nodes` show what its last tick saw. */
  statsIntervalMs: number;
  /** From a start until a container with `ip=dhcp` holds its IPv4 lease. */
  dhcpLeaseMs: number;
  /** How long one minute of vzdump's `lockwait` lasts (60000: real minutes). */
  vzdumpMinuteMs: number;
}

export const DEFAULT_LATENCY: Readonly<Latency> = Object.freeze({
  taskMs: 50,
  httpMs: 0,
  sshMs: 0,
  lockWaitMs: 10_000,
  statsIntervalMs: 10_000,
  dhcpLeaseMs: 3_000,
  vzdumpMinuteMs: 60_000,
});

const MAX_LATENCY_MS = 3_600_000;

/** A tick over every guest is not free: below this the timer would keep the simulator busy. */
const MIN_LATENCY_MS: Partial<Record<keyof Latency, number>> = { statsIntervalMs: 10 };

function isLatencyKey(key: string): key is keyof Latency {
  return Object.hasOwn(DEFAULT_LATENCY, key);
}

/** Why `value` cannot be the latency `key`, or undefined when it can. */
export function latencyValueError(key: keyof Latency, value: unknown): string | undefined {
  const min = MIN_LATENCY_MS[key] ?? 0;
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > MAX_LATENCY_MS
  )
    return `${key} must be an integer between ${min} and ${MAX_LATENCY_MS}`;
  return undefined;
}

export function parseLatencyUpdate(body: unknown): Partial<Latency> | string {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return 'body must be a JSON object';
  }
  const update: Partial<Latency> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (!isLatencyKey(key)) return `unknown field '${key}'`;
    const error = latencyValueError(key, value);
    if (error !== undefined) return error;
    update[key] = value as number;
  }
  return update;
}
