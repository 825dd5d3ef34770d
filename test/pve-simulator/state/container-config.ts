import { createHash } from 'node:crypto';
import {
  ENDPOINT_SCHEMAS,
  lookupProperty,
  parsePropertyString,
  PropertySchema,
} from '../api/schema/parameter-schema';
import { splitList } from '../api/schema/named-formats';

/** A container's configuration as `/etc/pve/lxc/<vmid>.conf` holds it: option → raw value. */
export type ContainerConfig = Record<string, string>;

/**
 * The `[pve:pending]` section of a container's config: changes that wait for
 * the next start (a running container takes only the hot-pluggable ones).
 */
export interface PendingChanges {
  values: ContainerConfig;
  /** Options to delete, sorted, as pve-guest-common's print_pending_delete writes them. */
  delete: string[];
}

export function noPendingChanges(): PendingChanges {
  return { values: {}, delete: [] };
}

const CONFIG_PROPERTIES = ENDPOINT_SCHEMAS['PUT /nodes/{node}/lxc/{vmid}/config'].properties;
const NON_CONFIG_KEYS = new Set(['node', 'vmid', 'delete', 'revert', 'digest']);

export function configPropertySchema(key: string): PropertySchema | undefined {
  if (NON_CONFIG_KEYS.has(key)) return undefined;
  return lookupProperty(CONFIG_PROPERTIES, key);
}

export function isConfigOption(key: string): boolean {
  return configPropertySchema(key) !== undefined;
}

function formatOf(key: string): Record<string, PropertySchema> {
  const format = configPropertySchema(key)?.format;
  if (format === undefined || typeof format === 'string')
    throw new Error(`${key} is not a property string`);
  return format;
}

export function parseNetwork(value: string): Record<string, string> {
  return parsePropertyString(formatOf('net0'), value, 'net0');
}

/** Proxmox prints `name` first, then the other keys in order. */
export function printNetwork(parsed: Record<string, string>): string {
  const keys = Object.keys(parsed)
    .filter((key) => key !== 'name')
    .sort();
  return [`name=${parsed.name}`, ...keys.map((key) => `${key}=${parsed[key]}`)].join(',');
}

export function parseFeatures(value: string | undefined): Record<string, string> {
  if (!value) return {};
  return parsePropertyString(formatOf('features'), value, 'features');
}

export interface MountPoint {
  volume: string;
  size?: string;
  [key: string]: string | undefined;
}

export function parseMountPoint(key: 'rootfs' | `mp${number}`, value: string): MountPoint {
  const parsed = parsePropertyString(formatOf(key === 'rootfs' ? 'rootfs' : 'mp0'), value, key);
  return { ...parsed, volume: parsed.volume };
}

export function printMountPoint(mount: MountPoint): string {
  const rest = Object.keys(mount)
    .filter((key) => key !== 'volume' && mount[key] !== undefined)
    .sort()
    .map((key) => `${key}=${mount[key]}`);
  return [mount.volume, ...rest].join(',');
}

/** Tags as pve-guest-common stores them: split, lower-cased, sorted, unique, `;`-joined. */
export function normalizeTags(value: string): string {
  const seen = new Set<string>();
  const tags: string[] = [];
  for (const tag of splitList(value).sort((a, b) =>
    a.toLowerCase().localeCompare(b.toLowerCase()),
  )) {
    const lower = tag.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    tags.push(lower);
  }
  return tags.join(';');
}

export function tagList(config: ContainerConfig): string[] {
  return config.tags ? config.tags.split(';').filter((tag) => tag !== '') : [];
}

/** `8G`, `512M`, `8` (GiB) → bytes, as pve-common's parse_size with a GiB default for new volumes. */
export function parseSizeBytes(size: string, defaultUnit: 'G' | '' = ''): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT])?$/.exec(size);
  if (!match) return 0;
  const unit = match[2] ?? defaultUnit;
  const factor = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[unit] ?? 1;
  return Math.round(Number(match[1]) * factor);
}

/** pve-common's format_size: the largest unit that divides the size exactly. */
export function formatSize(bytes: number): string {
  const units = ['', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let unit = 0;
  while (unit < units.length - 1 && value % 1024 === 0 && value > 0) {
    value /= 1024;
    unit++;
  }
  return `${value}${units[unit]}`;
}

/** A config value typed the way the API returns it (integers and booleans as numbers). */
export function typedValue(key: string, value: string): string | number {
  const type = configPropertySchema(key)?.type;
  return (type === 'integer' || type === 'number' || type === 'boolean') &&
    /^-?\d+(\.\d+)?$/.test(value)
    ? Number(value)
    : value;
}

/** The config with values typed the way the API returns them. */
export function typedConfig(config: ContainerConfig): Record<string, string | number> {
  const typed: Record<string, string | number> = {};
  for (const key of Object.keys(config).sort()) typed[key] = typedValue(key, config[key]);
  return typed;
}

/**
 * The SHA-1 of the config file text, which PUT config's `digest` compares
 * against; pending changes are part of the file (its `[pve:pending]` section).
 */
export function configDigest(
  config: ContainerConfig,
  lock: string | null,
  pending: PendingChanges,
): string {
  const lines = Object.keys(config)
    .sort()
    .map((key) => `${key}: ${config[key]}\n`);
  if (lock) lines.unshift(`lock: ${lock}\n`);
  const section: ContainerConfig = { ...pending.values };
  if (pending.delete.length > 0) section.delete = pending.delete.join(',');
  if (Object.keys(section).length > 0) {
    lines.push('\n[pve:pending]\n');
    for (const key of Object.keys(section).sort()) lines.push(`${key}: ${section[key]}\n`);
  }
  return createHash('sha1').update(lines.join('')).digest('hex');
}
