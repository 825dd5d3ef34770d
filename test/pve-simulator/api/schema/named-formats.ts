import { isIPv4, isIPv6 } from 'node:net';
import type { PropertySchema } from './parameter-schema';

/**
 * The named formats of pve-common and friends (`register_format`), with the
 * exact messages their verifiers die with. A verifier returns the error text
 * or undefined when the value is valid.
 */
export type FormatVerifier = (value: string) => string | undefined;

const NODE_NAME = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)$/;
const DNS_LABEL = '([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)';
const DNS_NAME = new RegExp(`^(${DNS_LABEL}\\.)*${DNS_LABEL}$`);
const CONFIG_ID = /^[a-z][a-z0-9_-]+$/i;
const TAG = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
const STORAGE_CONTENT = new Set([
  'images',
  'rootdir',
  'vztmpl',
  'iso',
  'backup',
  'snippets',
  'import',
  'none',
]);
const VALID_TIMEZONES = new Set<string>(['UTC', 'host', ...Intl.supportedValuesOf('timeZone')]);

/** pve-common's split_list: NUL-separated, or commas/semicolons/whitespace. */
export function splitList(text: string): string[] {
  if (text.includes('\0')) return text.split('\0');
  return text
    .replace(/[,;]/g, ' ')
    .trim()
    .split(/\s+/)
    .filter((item) => item !== '');
}

function verifyStorageId(value: string): string | undefined {
  if (value.length < 2) return `storage ID '${value}' cannot be shorter than 2 characters`;
  if (!/^[a-z][a-z0-9\-_.]*[a-z0-9]$/i.test(value))
    return `storage ID '${value}' contains illegal characters`;
  return undefined;
}

function verifyIp(value: string): string | undefined {
  return isIPv4(value) || isIPv6(value) ? undefined : 'value does not look like a valid IP address';
}

function verifyMountPointPath(value: string): string | undefined {
  if (/\/\.\.?\//.test(value) || /\/\.\.?$/.test(value) || /^\.\.\//.test(value))
    return `${value} contains illegal character sequences`;
  return undefined;
}

function cidr(value: string, family: 4 | 6): boolean {
  const [address, prefix, extra] = value.split('/');
  if (extra !== undefined || prefix === undefined || !/^\d+$/.test(prefix)) return false;
  const max = family === 4 ? 32 : 128;
  return Number(prefix) <= max && (family === 4 ? isIPv4(address) : isIPv6(address));
}

export const FORMAT_VERIFIERS: Readonly<Record<string, FormatVerifier>> = {
  'pve-node': (v) => (NODE_NAME.test(v) ? undefined : 'value does not look like a valid node name'),
  'pve-vmid': (v) =>
    /^[1-9][0-9]{2,8}$/.test(v) ? undefined : 'value does not look like a valid VM ID',
  'pve-configid': (v) => (CONFIG_ID.test(v) ? undefined : `invalid configuration ID '${v}'`),
  'pve-storage-id': verifyStorageId,
  'dns-name': (v) => (DNS_NAME.test(v) ? undefined : 'value does not look like a valid DNS name'),
  'pve-tag': (v) => (TAG.test(v) ? undefined : 'invalid characters in tag'),
  'mac-addr': (v) =>
    /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i.test(v)
      ? undefined
      : 'value does not look like a valid unicast MAC address',
  ipv4: (v) => (isIPv4(v) ? undefined : 'value does not look like a valid IPv4 address'),
  ipv6: (v) => (isIPv6(v) ? undefined : 'value does not look like a valid IPv6 address'),
  ip: verifyIp,
  'pve-ipv4-config': (v) =>
    v === 'dhcp' || v === 'manual' || cidr(v, 4)
      ? undefined
      : 'value does not look like a valid ipv4 network configuration',
  'pve-ipv6-config': (v) =>
    v === 'dhcp' || v === 'auto' || v === 'manual' || cidr(v, 6)
      ? undefined
      : 'value does not look like a valid ipv6 network configuration',
  'lxc-ip-with-ll-iface': (v) => {
    const linkLocal = /^(fe80:[^%]+)%(.*)$/.exec(v);
    if (
      linkLocal &&
      isIPv6(linkLocal[1]) &&
      /^[a-zA-Z][a-zA-Z0-9_]{1,20}([:.]\d+)?$/.test(linkLocal[2])
    )
      return undefined;
    return verifyIp(v);
  },
  'disk-size': (v) =>
    /^(\d+(\.\d+)?)([KMGT])?$/.test(v)
      ? undefined
      : `value does not look like a valid disk size: ${v}`,
  'pve-volume-id': (v) =>
    /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i.test(v) ? undefined : `unable to parse volume ID '${v}'`,
  'pve-lxc-mp-string': verifyMountPointPath,
  'pve-lxc-dev-string': (v) =>
    /\/\.\.?(?:\/|$)/.test(v) || !v.startsWith('/dev/')
      ? `${v} is not a valid device path`
      : undefined,
  'pve-ct-timezone': (v) => (VALID_TIMEZONES.has(v) ? undefined : `invalid time zone '${v}'`),
  'pve-poolid': (v) => {
    if (v.split('/').length > 3) return `pool name '${v}' nested too deeply (max levels = 3)`;
    return /^[A-Za-z0-9.\-_]+(?:\/[A-Za-z0-9.\-_]+){0,2}$/.test(v)
      ? undefined
      : `pool name '${v}' contains invalid characters`;
  },
  'pve-realm': (v) =>
    /^[A-Za-z][A-Za-z0-9.\-_]+$/.test(v) ? undefined : 'value does not look like a valid realm',
  'pve-priv': () => undefined,
  'pve-storage-content': (v) =>
    STORAGE_CONTENT.has(v) ? undefined : `invalid content type '${v}'`,
  'pve-task-status-type': (v) =>
    /^(ok|error|warning|unknown)$/i.test(v) ? undefined : `invalid status '${v}'`,
  'pve-startup-order': (v) =>
    v
      .split(',')
      .every(
        (part) => /^\s*$/.test(part) || /^(order=)?\d+$/.test(part) || /^(up|down)=\d+$/.test(part),
      )
      ? undefined
      : 'unable to parse startup options',
  email: (v) =>
    /^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(v)
      ? undefined
      : 'value does not look like a valid email address',
  'email-or-username': (v) =>
    /^[\w+\-~]+(\.[\w+\-~]+)*@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*$/.test(v) || /^[^\s:/]+$/.test(v)
      ? undefined
      : 'value does not look like a valid email address or user name',
};

/** Named formats that are themselves property strings (hash-based `register_format`). */
export const PROPERTY_STRING_FORMATS: Readonly<Record<string, Record<string, PropertySchema>>> = {
  'prune-backups': {
    'keep-all': { type: 'boolean', optional: 1 },
    'keep-last': { type: 'integer', minimum: 1, optional: 1 },
    'keep-hourly': { type: 'integer', minimum: 1, optional: 1 },
    'keep-daily': { type: 'integer', minimum: 1, optional: 1 },
    'keep-weekly': { type: 'integer', minimum: 1, optional: 1 },
    'keep-monthly': { type: 'integer', minimum: 1, optional: 1 },
    'keep-yearly': { type: 'integer', minimum: 1, optional: 1 },
  },
  'backup-fleecing': {
    enabled: { type: 'boolean', optional: 1, default_key: 1 },
    storage: { type: 'string', format: 'pve-storage-id', optional: 1 },
  },
  'backup-performance': {
    'max-workers': { type: 'integer', minimum: 1, maximum: 256, optional: 1 },
    'pbs-entries-max': { type: 'integer', minimum: 1, optional: 1 },
  },
};

/** Validators attached to property-string formats (`$format_validators`). */
export const PROPERTY_STRING_VALIDATORS: Readonly<
  Record<string, (parsed: Record<string, string>) => string | undefined>
> = {
  'prune-backups': (parsed) =>
    parsed['keep-all'] === '1' && Object.keys(parsed).some((key) => key !== 'keep-all')
      ? 'keep-all cannot be set together with other options.'
      : undefined,
};
