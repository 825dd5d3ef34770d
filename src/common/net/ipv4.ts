import { isIPv4 } from 'node:net';

export interface Ipv4Network {
  base: number;
  prefix: number;
}

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

/** Parses "10.0.0.0/24"; null unless it is a network address with a prefix of 1..32. */
export function parseIpv4Cidr(cidr: string): Ipv4Network | null {
  const match = /^([0-9.]+)\/(\d{1,2})$/.exec(cidr);
  if (!match || !isIPv4(match[1])) return null;
  const prefix = Number(match[2]);
  if (prefix < 1 || prefix > 32) return null;
  const base = ipv4ToInt(match[1]);
  const size = 2 ** (32 - prefix);
  if (base % size !== 0) return null;
  return { base, prefix };
}

/** True when ip is a usable host address of the network (not its network or broadcast address). */
export function isHostInNetwork(ip: string, net: Ipv4Network): boolean {
  if (!isIPv4(ip)) return false;
  const value = ipv4ToInt(ip);
  const size = 2 ** (32 - net.prefix);
  if (value < net.base || value >= net.base + size) return false;
  if (size <= 2) return true;
  return value !== net.base && value !== net.base + size - 1;
}
