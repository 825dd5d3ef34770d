import { HOSTNAME_PATTERN } from '../applications.dto';

/** What an adopted application keeps of its container's config. */
export interface CapturedConfig {
  hostname: string;
  cores: number;
  memoryMb: number;
  swapMb: number;
  diskGb: number;
}

// pve-container's defaults for keys a config may leave out.
const DEFAULT_MEMORY_MB = 512;
const DEFAULT_SWAP_MB = 512;

const GIB_PER_UNIT: Record<string, number> = {
  K: 1 / (1024 * 1024),
  M: 1 / 1024,
  G: 1,
  T: 1024,
};

/** `size=8G` of a `rootfs` volume string in whole GiB (rounded up, at least 1); null when absent. */
export function rootfsSizeGb(rootfs: string | undefined): number | null {
  const match = /(?:^|,)size=(\d+(?:\.\d+)?)([KMGT])?(?:,|$)/i.exec(rootfs ?? '');
  if (!match) return null;
  const unit = (match[2] ?? 'G').toUpperCase();
  return Math.max(1, Math.ceil(Number(match[1]) * GIB_PER_UNIT[unit]));
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** The hostname as Proximity keeps it: Proxmox's default is `CT<vmid>`, resolved case-blind. */
export function hostnameOf(config: Readonly<Record<string, string>>, vmid: number): string {
  return (config.hostname ?? `CT${vmid}`).toLowerCase();
}

/**
 * The container's hostname and resources from its flat config. Cores left
 * unlimited count as the CPUs the container sees. Null for a hostname that
 * is not one RFC 1123 label (the caller says why).
 */
export function captureConfig(
  config: Readonly<Record<string, string>>,
  vmid: number,
  cpus: number,
): CapturedConfig | null {
  const hostname = hostnameOf(config, vmid);
  if (!HOSTNAME_PATTERN.test(hostname)) return null;
  return {
    hostname,
    cores: positiveInt(config.cores, Math.max(1, cpus)),
    memoryMb: positiveInt(config.memory, DEFAULT_MEMORY_MB),
    swapMb: config.swap === '0' ? 0 : positiveInt(config.swap, DEFAULT_SWAP_MB),
    diskGb: rootfsSizeGb(config.rootfs) ?? 1,
  };
}
