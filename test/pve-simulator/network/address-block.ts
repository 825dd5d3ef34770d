import { randomInt } from 'node:crypto';
import { createServer, type Server } from 'node:net';

/** Listened on at `127.77.<block>.255`, an address no container is given. */
const CLAIM_PORT = 65_535;

export interface AddressBlockClaim {
  /** The third octet of the /24 in 127.77.0.0/16 this simulator leases from first. */
  readonly block: number;
  /** False when every block was taken: leasing then starts at a random block, shared. */
  readonly exclusive: boolean;
  release(): Promise<void>;
}

function tryListen(host: string): Promise<Server | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port: CLAIM_PORT, host, exclusive: true }, () => resolve(server));
  });
}

/**
 * Claims a /24 of 127.77.0.0/16 for one simulator by listening on its .255
 * address: simulators running side by side on one machine (parallel test
 * workers, the demo next to a test run) then lease different container
 * addresses, so their containers' services never collide on an address and
 * port. With every block claimed, leasing starts at a random block as before.
 */
export async function claimAddressBlock(): Promise<AddressBlockClaim> {
  const first = randomInt(0, 256);
  for (let i = 0; i < 256; i++) {
    const block = (first + i) % 256;
    const server = await tryListen(`127.77.${block}.255`);
    if (server) {
      return {
        block,
        exclusive: true,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
  }
  return { block: first, exclusive: false, release: () => Promise.resolve() };
}
