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

async function get(url: string): Promise<{ status: number; body: string }> {
  const response = await request(url);
  return { status: response.statusCode, body: await response.body.text() };
}

async function refused(url: string): Promise<string> {
  try {
    await request(url);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
  return 'answered';
}

const COMPOSE = `services:
  blog:
    image: ghost:5
    ports:
      - "2368:2368"
  admin:
    image: adminer
    ports:
      - target: 8080
`;

describe('services of a container really answer', () => {
  let fx: SimulatorFixture;
  let ip: string;
  let publicPort: number;

  beforeAll(async () => {
    fx = await SimulatorFixture.start();
    await fx.createContainer(101, { start: true });
    ip = (await fx.state()).containers[0].ip as string;
    const setup = await fx.exec(
      "pct exec 101 -- sh -c 'apt-get update -qq && apt-get install -y -qq curl && curl -fsSL https://get.docker.com | sh && mkdir -p /opt/blog'",
    );
    expect(setup.code).toBe(0);
    await fx.exec('pct exec 101 -- tee /opt/blog/compose.yaml', COMPOSE);
    expect(
      (await fx.exec('pct exec 101 -- docker compose -f /opt/blog/compose.yaml up -d')).code,
    ).toBe(0);
    publicPort = await freePort();
    for (const command of [
      'nft add table ip proximity',
      `nft add chain ip proximity prerouting '{ type nat hook prerouting priority dstnat; policy accept; }'`,
      `nft add rule ip proximity prerouting tcp dport ${publicPort} dnat to ${ip}:2368 comment '"blog"'`,
    ]) {
      expect((await fx.exec(command)).code).toBe(0);
    }
  });

  afterAll(async () => {
    await fx?.close();
  });

  it('gives the running container an address in 127.77.0.0/16', () => {
    expect(ip).toMatch(/^127\.77\.\d{1,3}\.\d{1,3}$/);
  });

  it('answers 200 with the service name on every published port of the container address', async () => {
    expect(await get(`http://${ip}:2368/`)).toEqual({ status: 200, body: 'blog' });
    const ps = await fx.exec(
      'pct exec 101 -- docker compose -f /opt/blog/compose.yaml ps --format json admin',
    );
    const ephemeral = (JSON.parse(ps.stdout) as { Publishers: Array<{ PublishedPort: number }> })
      .Publishers[0].PublishedPort;
    expect(ephemeral).toBeGreaterThanOrEqual(32768);
    expect(await get(`http://${ip}:${ephemeral}/anything`)).toEqual({ status: 200, body: 'admin' });
  });

  it('forwards 127.0.0.1:<publicPort> to the service through the DNAT rule', async () => {
    expect(await get(`http://127.0.0.1:${publicPort}/`)).toEqual({ status: 200, body: 'blog' });
  });

  it('stops answering while the container is stopped, keeps the rule, and answers again after a start', async () => {
    await fx.waitTask(await fx.token.nodes.$('pve1').lxc.$(101).status.stop.$post());
    expect(await refused(`http://${ip}:2368/`)).toBe('ECONNREFUSED');
    expect(await refused(`http://127.0.0.1:${publicPort}/`)).toBe('ECONNREFUSED');
    const stopped = await fx.state();
    expect(stopped.forwards).toEqual([
      { node: 'pve1', publicPort, protocol: 'tcp', target: `${ip}:2368`, comment: 'blog' },
    ]);
    expect(stopped.containers[0]).toMatchObject({ status: 'stopped', ip: null, services: [] });
    await fx.waitTask(await fx.token.nodes.$('pve1').lxc.$(101).status.start.$post());
    expect(await get(`http://127.0.0.1:${publicPort}/`)).toEqual({ status: 200, body: 'blog' });
    expect((await fx.state()).containers[0]).toMatchObject({
      status: 'running',
      ip,
      services: ['blog', 'admin'],
    });
  });

  it('closes the service on compose down, and the forward with it', async () => {
    expect(
      (await fx.exec('pct exec 101 -- docker compose -f /opt/blog/compose.yaml down')).code,
    ).toBe(0);
    expect(await refused(`http://${ip}:2368/`)).toBe('ECONNREFUSED');
    expect(await refused(`http://127.0.0.1:${publicPort}/`)).toBe('ECONNREFUSED');
    expect(
      (await fx.exec('pct exec 101 -- docker compose -f /opt/blog/compose.yaml up -d')).code,
    ).toBe(0);
    expect(await get(`http://127.0.0.1:${publicPort}/`)).toEqual({ status: 200, body: 'blog' });
  });

  it('closes everything when the container is destroyed', async () => {
    await fx.waitTask(await fx.token.nodes.$('pve1').lxc.$(101).$delete({ force: true }));
    expect(await refused(`http://${ip}:2368/`)).toBe('ECONNREFUSED');
    expect(await refused(`http://127.0.0.1:${publicPort}/`)).toBe('ECONNREFUSED');
    expect((await fx.exec('nft delete table ip proximity')).code).toBe(0);
    expect((await fx.state()).forwards).toEqual([]);
  });
});
