import { createServer } from 'node:net';
import { request } from 'undici';
import { SimulatorFixture } from './testing/simulator-fixture';

/** A port nothing listens on right now (tests run in parallel workers). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function answer(url: string): Promise<string> {
  try {
    const response = await request(url);
    return `${response.statusCode} ${await response.body.text()}`;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

const COMPOSE = `services:
  web:
    image: traefik/whoami
    ports:
      - "80:80"
`;

describe('/cluster/status', () => {
  it('lists the cluster, then every node with its id, address and the answering node marked local', async () => {
    const fx = await SimulatorFixture.start();
    try {
      expect(await fx.token.cluster.status.$get()).toEqual([
        { id: 'cluster', type: 'cluster', name: 'pve-sim', nodes: 2, quorate: 1, version: 2 },
        {
          id: 'node/pve1',
          type: 'node',
          name: 'pve1',
          nodeid: 1,
          ip: '127.0.0.1',
          local: 1,
          online: 1,
          level: '',
        },
        {
          id: 'node/pve2',
          type: 'node',
          name: 'pve2',
          nodeid: 2,
          ip: '127.0.0.1',
          local: 0,
          online: 1,
          level: '',
        },
      ]);
    } finally {
      await fx.close();
    }
  });

  it('has no cluster entry on a stand-alone node', async () => {
    const fx = await SimulatorFixture.start({ nodes: ['solo'] });
    try {
      expect(await fx.token.cluster.status.$get()).toEqual([
        {
          id: 'node/solo',
          type: 'node',
          name: 'solo',
          nodeid: 0,
          ip: '127.0.0.1',
          local: 1,
          online: 1,
          level: '',
        },
      ]);
    } finally {
      await fx.close();
    }
  });

  it('refuses an address for a node that does not exist, or one that is not an IP', async () => {
    await expect(SimulatorFixture.start({ nodeAddresses: { pve3: '127.0.0.3' } })).rejects.toThrow(
      "node address given for unknown node 'pve3'",
    );
    await expect(SimulatorFixture.start({ nodeAddresses: { pve2: 'pve2.lan' } })).rejects.toThrow(
      "invalid address 'pve2.lan' for node 'pve2'",
    );
  });
});

describe('a node with an address of its own', () => {
  let fx: SimulatorFixture;

  beforeAll(async () => {
    fx = await SimulatorFixture.start({ nodeAddresses: { pve2: '127.0.0.2' } });
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('reports it in /cluster/status and forwards its ports there, not on the first node', async () => {
    const nodes = (await fx.token.cluster.status.$get()).filter((entry) => entry.type === 'node');
    expect(nodes.map((n) => [n.name, n.ip])).toEqual([
      ['pve1', '127.0.0.1'],
      ['pve2', '127.0.0.2'],
    ]);

    await fx.createContainer(201, { start: true }, 'pve2');
    const ip = (await fx.state()).containers[0].ip as string;
    const pct = (command: string) => `ssh pve2 ${JSON.stringify(`pct exec 201 -- ${command}`)}`;
    expect(
      (
        await fx.exec(
          pct(
            "sh -c 'apt-get update -qq && apt-get install -y -qq curl && curl -fsSL https://get.docker.com | sh'",
          ),
        )
      ).code,
    ).toBe(0);
    expect((await fx.exec(pct('mkdir -p /opt/web'))).code).toBe(0);
    expect((await fx.exec(pct('tee /opt/web/compose.yaml'), COMPOSE)).code).toBe(0);
    expect((await fx.exec(pct('docker compose -f /opt/web/compose.yaml up -d'))).code).toBe(0);
    const publicPort = await freePort();
    for (const command of [
      'nft add table ip proximity',
      `nft add chain ip proximity prerouting '{ type nat hook prerouting priority dstnat; policy accept; }'`,
      `nft add rule ip proximity prerouting tcp dport ${publicPort} dnat to ${ip}:80`,
    ]) {
      expect((await fx.exec(`ssh pve2 ${JSON.stringify(command)}`)).code).toBe(0);
    }

    expect(await answer(`http://127.0.0.2:${publicPort}/`)).toBe('200 web');
    expect(await answer(`http://127.0.0.1:${publicPort}/`)).toBe('ECONNREFUSED');
  });
});
