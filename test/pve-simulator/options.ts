import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { DEFAULT_LATENCY, Latency, latencyValueError } from './util/latency';

/** What `startSimulator` accepts; every field is optional. */
export interface SimulatorOptions {
  /** HTTPS port; 0 (the default here) picks a free port. The CLI defaults to 8006. */
  port?: number;
  /** SSH port; 0 (the default here) picks a free port. The CLI defaults to 2222. */
  sshPort?: number;
  /** Address to listen on (API, SSH and forwarded ports); default 127.0.0.1. */
  host?: string;
  /** Cluster node names; default pve1, pve2. The SSH endpoint is the first node. */
  nodes?: string[];
  /**
   * A node's address (its `ip` in `/cluster/status`, where its forwarded ports
   * listen); a node not named here has the listen address. A loopback address
   * such as 127.0.0.2 tells nodes apart on one machine.
   */
  nodeAddresses?: Record<string, string>;
  /** Seed of every random choice (fault probabilities, MACs, pids, ports); random when absent. */
  seed?: number;
  /** Keeps the cluster across restarts: loaded at start, saved after changes and at stop. */
  stateFile?: string;
  /**
   * Initial latencies (what /_sim/reset returns to); defaults taskMs 50, httpMs 0, sshMs 0,
   * statsIntervalMs 10000, dhcpLeaseMs 3000.
   */
  latency?: Partial<Latency>;
  /** pveproxy delays every 401 by 3 s; default 0 here. */
  unauthorizedDelayMs?: number;
  username?: string;
  password?: string;
  tokenId?: string;
  tokenSecret?: string;
  sshUser?: string;
  sshPassword?: string;
  /** OpenSSH public key line(s) accepted for public-key login. */
  sshAuthorizedKeys?: string | string[];
}

export interface ResolvedOptions {
  port: number;
  sshPort: number;
  host: string;
  nodes: string[];
  /** Only the nodes given an address of their own. */
  nodeAddresses: Record<string, string>;
  seed: number;
  stateFile: string | null;
  latency: Latency;
  unauthorizedDelayMs: number;
  username: string;
  password: string;
  tokenId: string;
  tokenSecret: string;
  sshUser: string;
  sshPassword: string;
  sshAuthorizedKeys: string[];
}

const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function generatedPassword(): string {
  return randomBytes(18).toString('base64url');
}

function port(value: number | undefined, name: string): number {
  const result = value ?? 0;
  if (!Number.isInteger(result) || result < 0 || result > 65535)
    throw new Error(`${name} must be a port number (0-65535)`);
  return result;
}

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  const nodes = options.nodes ?? ['pve1', 'pve2'];
  if (nodes.length === 0) throw new Error('at least one node is required');
  for (const node of nodes)
    if (!NODE_NAME.test(node)) throw new Error(`invalid node name '${node}'`);
  if (new Set(nodes).size !== nodes.length) throw new Error('node names must be unique');
  const nodeAddresses = { ...options.nodeAddresses };
  for (const [node, address] of Object.entries(nodeAddresses)) {
    if (!nodes.includes(node)) throw new Error(`node address given for unknown node '${node}'`);
    if (isIP(address) === 0) throw new Error(`invalid address '${address}' for node '${node}'`);
  }
  const username = options.username ?? 'root@pam';
  if (!/^[^\s:@!]+@[A-Za-z][A-Za-z0-9.\-_]+$/.test(username))
    throw new Error(`invalid username '${username}' (expected user@realm)`);
  const tokenId = options.tokenId ?? `${username}!proximity`;
  if (!/^[^\s:@!]+@[A-Za-z][A-Za-z0-9.\-_]+![A-Za-z][A-Za-z0-9.\-_]+$/.test(tokenId))
    throw new Error(`invalid token id '${tokenId}' (expected user@realm!name)`);
  const tokenSecret = options.tokenSecret ?? randomUUID();
  if (!UUID.test(tokenSecret))
    throw new Error('the token secret must be a lower-case UUID, as Proxmox issues them');
  const latency: Latency = { ...DEFAULT_LATENCY, ...options.latency };
  for (const [key, value] of Object.entries(latency)) {
    const error = latencyValueError(key as keyof Latency, value);
    if (error !== undefined) throw new Error(`latency ${error}`);
  }
  const keys =
    options.sshAuthorizedKeys === undefined
      ? []
      : Array.isArray(options.sshAuthorizedKeys)
        ? options.sshAuthorizedKeys
        : [options.sshAuthorizedKeys];
  const sshAuthorizedKeys = keys
    .flatMap((text) => text.split('\n'))
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return {
    port: port(options.port, 'port'),
    sshPort: port(options.sshPort, 'sshPort'),
    host: options.host ?? '127.0.0.1',
    nodes: [...nodes],
    nodeAddresses,
    seed: options.seed ?? randomInt(0, 2 ** 31),
    stateFile: options.stateFile ?? null,
    latency,
    unauthorizedDelayMs: options.unauthorizedDelayMs ?? 0,
    username,
    password: options.password ?? generatedPassword(),
    tokenId,
    tokenSecret,
    sshUser: options.sshUser ?? 'root',
    sshPassword: options.sshPassword ?? generatedPassword(),
    sshAuthorizedKeys,
  };
}
