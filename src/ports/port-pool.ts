import type { Protocol } from '../catalog/catalog-app';

export interface PortRange {
  min: number;
  max: number;
}

export interface HeldPort {
  port: number;
  protocol: Protocol;
}

/**
 * The lowest free public port of the range for each wanted protocol, in the
 * order asked; a port is taken per protocol (tcp 30000 and udp 30000 are two
 * ports). Null when the range cannot hold them all.
 */
export function pickPorts(
  range: PortRange,
  held: readonly HeldPort[],
  wanted: readonly Protocol[],
): number[] | null {
  const taken = new Set(held.map(({ port, protocol }) => `${protocol}/${port}`));
  const cursor: Partial<Record<Protocol, number>> = {};
  const picked: number[] = [];
  for (const protocol of wanted) {
    let port = cursor[protocol] ?? range.min;
    while (port <= range.max && taken.has(`${protocol}/${port}`)) port += 1;
    if (port > range.max) return null;
    taken.add(`${protocol}/${port}`);
    cursor[protocol] = port + 1;
    picked.push(port);
  }
  return picked;
}
