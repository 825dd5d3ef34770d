import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startSimulator } from './index';
import { SimulatorFixture } from './testing/simulator-fixture';

function connectOutcome(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

describe('starting and stopping', () => {
  it('stop() closes the API, SSH, service and forwarding sockets', async () => {
    const fx = await SimulatorFixture.start();
    await fx.createContainer(101, { start: true });
    const ip = (await fx.state()).containers[0].ip as string;
    await fx.exec(
      "pct exec 101 -- sh -c 'apt-get update -qq && apt-get install -y -qq curl && curl -fsSL https://get.docker.com | sh'",
    );
    await fx.exec(
      'pct exec 101 -- tee /root/compose.yaml',
      'services:\n  app:\n    image: nginx\n    ports: ["8088:80"]\n',
    );
    await fx.exec('pct exec 101 -- docker compose -f /root/compose.yaml up -d');
    await fx.exec('nft add table ip proximity');
    await fx.exec(
      `nft add chain ip proximity prerouting '{ type nat hook prerouting priority dstnat; }'`,
    );
    const publicPort = 20000 + Math.floor(Math.random() * 10000);
    await fx.exec(
      `nft add rule ip proximity prerouting tcp dport ${publicPort} dnat to ${ip}:8088`,
    );
    expect(await connectOutcome(ip, 8088)).toBe('connected');
    expect(await connectOutcome('127.0.0.1', publicPort)).toBe('connected');
    await fx.close();
    for (const [host, port] of [
      ['127.0.0.1', fx.sim.port],
      ['127.0.0.1', fx.sim.sshPort],
      [ip, 8088],
      ['127.0.0.1', publicPort],
    ] as const) {
      expect(await connectOutcome(host, port)).toBe('ECONNREFUSED');
    }
  });

  it('keeps the cluster in the state file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pve-sim-'));
    const stateFile = join(dir, 'state.json');
    try {
      const first = await SimulatorFixture.start({ stateFile });
      await first.control('POST', '/_sim/guests', {
        node: 'pve2',
        vmid: 4242,
        hostname: 'kept',
        tags: ['adopt'],
      });
      await first.createContainer(101, { start: true });
      await first.waitTask(
        await first.token.nodes.$('pve1').lxc.$(101).snapshot.$post({ snapname: 'snap1' }),
      );
      await first.close();
      const second = await SimulatorFixture.start({ stateFile });
      const containers = (await second.state()).containers;
      expect(containers.map((c) => [c.vmid, c.node, c.hostname, c.status, c.snapshots])).toEqual([
        [101, 'pve1', 'ct101', 'running', ['snap1']],
        [4242, 'pve2', 'kept', 'running', []],
      ]);
      expect(await second.token.nodes.$('pve2').lxc.$(4242).config.$get()).toMatchObject({
        hostname: 'kept',
        tags: 'adopt',
      });
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses invalid options', async () => {
    await expect(startSimulator({ nodes: ['bad_name'] })).rejects.toThrow(
      "invalid node name 'bad_name'",
    );
    await expect(startSimulator({ tokenSecret: 'not-a-uuid' })).rejects.toThrow('lower-case UUID');
  });

  it('runs from the command line: prints the ready line and exits cleanly on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, 'main.ts'),
        '--port',
        '0',
        '--ssh-port',
        '0',
        '--nodes',
        'alpha,beta',
        '--seed',
        '3',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PVE_SIM_PASSWORD: 'from-environment' },
      },
    );
    const line = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      createInterface({ input: child.stdout }).once('line', resolve);
    });
    const ready = JSON.parse(line) as Record<string, unknown>;
    expect(Object.keys(ready)).toEqual([
      'api',
      'ssh',
      'tlsFingerprint',
      'sshHostKeyFingerprint',
      'tokenId',
      'tokenSecret',
      'username',
      'password',
      'sshUser',
      'sshPassword',
      'nodes',
    ]);
    expect(ready).toMatchObject({
      api: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
      ssh: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
      tlsFingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      sshHostKeyFingerprint: expect.stringMatching(/^SHA256:[A-Za-z0-9+/]{43}$/),
      tokenId: 'root@pam!proximity',
      tokenSecret: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      ),
      username: 'root@pam',
      password: 'from-environment',
      sshUser: 'root',
      nodes: ['alpha', 'beta'],
    });
    const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  });
});
