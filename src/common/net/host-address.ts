import { isIP } from 'node:net';

const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * A host name as RFC 1123 §2.1 writes it: dot-separated labels of letters,
 * digits and inner hyphens, 253 characters at most. Its last label is not
 * all digits, so a malformed dotted-decimal address ("999.999.999.999",
 * "1.2.3.4.5") is not mistaken for a name.
 */
export function isDnsName(value: string): boolean {
  if (value.length === 0 || value.length > 253) return false;
  const labels = value.split('.');
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels[labels.length - 1]);
}

/**
 * A DNS name, an IPv4 address or an IPv6 address, and nothing else: no
 * scheme, port, path or brackets. IPv6 zone ids ("%eth0") are refused, as a
 * URL would need them escaped and a Proxmox API is not reached by link-local
 * scope.
 */
export function isHostAddress(value: string): boolean {
  if (value.includes('%')) return false;
  return isIP(value) !== 0 || isDnsName(value);
}
