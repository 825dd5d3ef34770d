export const RETRY_BASE_MS = 2000;
export const RETRY_CAP_MS = 60_000;

/**
 * Exponential backoff with a cap and full jitter in its upper half, so jobs
 * that failed together (a Proxmox outage) do not all retry in the same instant.
 */
export function jitteredBackoff(attemptsMade: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
