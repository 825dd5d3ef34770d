import { createHash } from 'node:crypto';
import { Container } from '../state/container';
import { parseNetwork } from '../state/container-config';

/** One entry of GET …/interfaces, as pve-container's get_interfaces builds it from `ip --json a`. */
export interface InterfaceEntry {
  name: string;
  hwaddr: string;
  'hardware-address': string;
  inet?: string;
  inet6?: string;
  'ip-addresses': Array<{ 'ip-address': string; 'ip-address-type': string; prefix: number }>;
}

interface Link {
  /** The ifindex inside the container's network namespace: `ip a` lists by it. */
  index: number;
  name: string;
  mac: string;
  inet: { address: string; prefix: number } | null;
  /** A link-local address only once the link has a carrier (an empty bridge has none). */
  linkLocal: boolean;
}

/** Docker's default bridge and the first subnet it gives compose networks. */
const DOCKER0_INET = { address: '172.17.0.1', prefix: 16 };
const FIRST_COMPOSE_SUBNET = 18;
/** Range of the ifindex a netN device brings from the host (see `hostIndex`). */
const HOST_INDEX_SPAN = 40;

/**
 * The interfaces of a running container: `lo`, its netN devices, and Docker's
 * `docker0`, one `br-<network id>` per compose network and one `veth…` per
 * running service while Docker runs. `ip a` lists them by ifindex: Docker's
 * links get the namespace's next free indexes (2, 3, …) while a netN device
 * keeps the index the host gave it, so `eth0` may come anywhere after `lo`.
 * With `ip=dhcp` the IPv4 address shows once the lease is taken, `dhcpLeaseMs`
 * after the start; any other `ip=` is configured before init runs.
 */
export function containerInterfaces(
  container: Container,
  now: number,
  dhcpLeaseMs: number,
): InterfaceEntry[] {
  const links: Link[] = [
    {
      index: 1,
      name: 'lo',
      mac: '00:00:00:00:00:00',
      inet: { address: '127.0.0.1', prefix: 8 },
      linkLocal: false,
    },
  ];
  const taken = new Set<number>([1]);
  for (const link of netLinks(container, now, dhcpLeaseMs)) {
    while (taken.has(link.index)) link.index++;
    taken.add(link.index);
    links.push(link);
  }
  let next = 2;
  for (const link of dockerLinks(container)) {
    while (taken.has(next)) next++;
    taken.add(next);
    links.push({ ...link, index: next });
  }
  return links.sort((a, b) => a.index - b.index).map(interfaceEntry);
}

function netLinks(container: Container, now: number, dhcpLeaseMs: number): Link[] {
  const keys = Object.keys(container.config)
    .filter((key) => /^net\d+$/.test(key))
    .sort();
  return keys.map((key) => {
    const net = parseNetwork(container.config[key]);
    const primary = key === 'net0' || !container.config.net0;
    const leased =
      net.ip !== 'dhcp' ||
      (container.startedAt !== null && now - container.startedAt >= dhcpLeaseMs);
    const address = primary && leased ? container.ip() : null;
    const mac = (net.hwaddr ?? '00:00:00:00:00:00').toLowerCase();
    return {
      index: hostIndex(container, key, mac),
      name: net.name,
      mac,
      inet: address === null ? null : { address, prefix: 16 },
      linkLocal: true,
    };
  });
}

/**
 * The host numbers the veth pair when the container starts; the guest end keeps
 * that number. Derived from the MAC so that it is fixed per seed.
 */
function hostIndex(container: Container, key: string, mac: string): number {
  return 2 + (digest(`${container.vmid}/${key}/${mac}`).readUInt32BE(0) % HOST_INDEX_SPAN);
}

/** Docker's links in the order dockerd creates them: its bridge, then per project its network and services. */
function dockerLinks(container: Container): Omit<Link, 'index'>[] {
  const guest = container.guest;
  if (!guest.dockerRunning()) return [];
  const links: Omit<Link, 'index'>[] = [
    {
      name: 'docker0',
      mac: dockerMac(`${container.vmid}/docker0`),
      inet: DOCKER0_INET,
      linkLocal: false,
    },
  ];
  let subnet = FIRST_COMPOSE_SUBNET;
  for (const project of guest.projects.values()) {
    const networkId = digest(`${container.vmid}/${project.name}/${project.createdAt}`).toString(
      'hex',
    );
    links.push({
      name: `br-${networkId.slice(0, 12)}`,
      mac: dockerMac(networkId),
      inet: { address: `172.${subnet}.0.1`, prefix: 16 },
      linkLocal: project.services.length > 0,
    });
    subnet++;
    for (const service of project.services) {
      // A veth is named afresh each time its container starts.
      const seed = digest(`${service.containerId}/${container.startedAt}`);
      links.push({
        name: `veth${seed.toString('hex').slice(0, 7)}`,
        mac: localMac(seed.subarray(4, 10)),
        inet: null,
        linkLocal: true,
      });
    }
  }
  return links;
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Docker's bridges use its 02:42 prefix. */
function dockerMac(seed: string): string {
  return macOf(Buffer.concat([Buffer.from([0x02, 0x42]), digest(seed).subarray(0, 4)]));
}

/** A random, locally administered unicast address, as the kernel gives a veth. */
function localMac(bytes: Buffer): string {
  const mac = Buffer.from(bytes);
  mac[0] = (mac[0] & 0xfe) | 0x02;
  return macOf(mac);
}

function macOf(bytes: Buffer): string {
  return [...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join(':');
}

/** The EUI-64 link-local address the kernel derives from a MAC. */
function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((part) => parseInt(part, 16));
  const groups = [
    ((b[0] ^ 0x02) << 8) | b[1],
    (b[2] << 8) | 0xff,
    (0xfe << 8) | b[3],
    (b[4] << 8) | b[5],
  ];
  return `fe80::${groups.map((group) => group.toString(16)).join(':')}`;
}

function interfaceEntry(link: Link): InterfaceEntry {
  const entry: InterfaceEntry = {
    name: link.name,
    hwaddr: link.mac,
    'hardware-address': link.mac,
    'ip-addresses': [],
  };
  const add = (family: 'inet' | 'inet6', address: string, prefix: number): void => {
    entry[family] = `${address}/${prefix}`;
    entry['ip-addresses'].push({ 'ip-address': address, 'ip-address-type': family, prefix });
  };
  if (link.inet) add('inet', link.inet.address, link.inet.prefix);
  if (link.name === 'lo') add('inet6', '::1', 128);
  else if (link.linkLocal) add('inet6', linkLocalOf(link.mac), 64);
  return entry;
}
