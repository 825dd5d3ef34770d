import fc from 'fast-check';
import { generateEd25519KeyPair } from './identity/ssh-key-pair';
import { sshConnect, sshExec } from './testing/ssh-session';
import { SimulatorFixture } from './testing/simulator-fixture';

/** POSIX single-quote quoting, as a client builds command lines from argv. */
function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

const COMPOSE_FILE = `name: shop
services:
  web:
    image: nginx:1.27
    ports:
      - "\${WEB_PORT:-8080}:80"
  worker:
    image: busybox
`;

describe('SSH to a node', () => {
  const clientKey = generateEd25519KeyPair();
  let fx: SimulatorFixture;

  beforeAll(async () => {
    fx = await SimulatorFixture.start({ sshAuthorizedKeys: clientKey.public });
    await fx.createContainer(101, { start: true });
    await fx.createContainer(102);
    await fx.createContainer(103, { start: true, features: '' });
    await fx.createContainer(104, { start: true });
    await fx.createContainer(201, { start: true }, 'pve2');
  });

  afterAll(async () => {
    await fx?.close();
  });

  describe('authentication', () => {
    it('accepts the password and the authorized public key, with the printed host key', async () => {
      const byKey = await sshConnect({
        ...fx.sim,
        sshPassword: undefined,
        privateKey: clientKey.private,
      });
      expect((await sshExec(byKey, 'hostname')).stdout).toBe('pve1\n');
      byKey.end();
      const byPassword = await sshConnect(fx.sim);
      expect((await sshExec(byPassword, 'pveversion')).stdout).toMatch(/^pve-manager\/9\.2\.11\//);
      byPassword.end();
    });

    it('refuses a wrong password, an unknown key, and a client expecting another host key', async () => {
      await expect(sshConnect({ ...fx.sim, sshPassword: 'wrong' })).rejects.toThrow(
        /authentication methods failed/,
      );
      const stranger = generateEd25519KeyPair();
      await expect(sshConnect({ ...fx.sim, privateKey: stranger.private })).rejects.toThrow(
        /authentication methods failed/,
      );
      await expect(
        sshConnect({
          ...fx.sim,
          sshHostKeyFingerprint: 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
        }),
      ).rejects.toThrow(/verification failed/);
      expect((await fx.exec('echo alive')).stdout).toBe('alive\n');
    });
  });

  describe('pct exec', () => {
    it('passes every argv element through unchanged', async () => {
      const samples = [
        '$(touch /tmp/pwned)',
        '`id`',
        'a b',
        "it's",
        'line\nbreak',
        '; rm -rf / &&',
        '*',
        '~',
        '-n',
        '',
        '"double"',
        '\\',
        'ünïcødé 🚀',
      ];
      const result = await fx.exec(
        `pct exec 101 -- printf '%s\\0' ${samples.map(quote).join(' ')}`,
      );
      expect(result.code).toBe(0);
      expect(result.stdout.split('\0').slice(0, -1)).toEqual(samples);
      expect((await fx.exec('pct exec 101 -- ls /tmp')).stdout).toBe('');
    });

    it('round-trips arbitrary argv (property)', async () => {
      const client = await fx.ssh();
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.string({ unit: 'binary', maxLength: 20 }).filter((s) => !s.includes('\0')),
            { minLength: 1, maxLength: 5 },
          ),
          async (args) => {
            const result = await sshExec(
              client,
              `pct exec 101 -- printf '%s\\0' ${args.map(quote).join(' ')}`,
            );
            expect(result.code).toBe(0);
            expect(result.stdout.split('\0').slice(0, -1)).toEqual(args);
          },
        ),
        { numRuns: 60 },
      );
    });

    it('fails unless the container runs on this node', async () => {
      expect(await fx.exec('pct exec 102 -- true')).toEqual({
        code: 255,
        stdout: '',
        stderr: "container '102' not running!\n",
      });
      expect(await fx.exec('pct exec 999 -- true')).toEqual({
        code: 255,
        stdout: '',
        stderr: "Configuration file 'nodes/pve1/lxc/999.conf' does not exist\n",
      });
      expect((await fx.exec('pct exec 201 -- true')).stderr).toBe(
        "Configuration file 'nodes/pve1/lxc/201.conf' does not exist\n",
      );
      expect(await fx.exec('ssh pve2 pct exec 201 -- hostname')).toEqual({
        code: 0,
        stdout: 'ct201\n',
        stderr: '',
      });
    });

    it('fails unknown commands with 127, as a shell would', async () => {
      expect(await fx.exec('pct exec 101 -- frobnicate --now')).toEqual({
        code: 127,
        stdout: '',
        stderr: 'sh: 1: frobnicate: not found\n',
      });
      expect(await fx.exec("pct exec 101 -- sh -c 'true && frobnicate'")).toEqual({
        code: 127,
        stdout: '',
        stderr: 'sh: 1: frobnicate: not found\n',
      });
      expect(await fx.exec('frobnicate')).toEqual({
        code: 127,
        stdout: '',
        stderr: 'bash: line 1: frobnicate: command not found\n',
      });
      expect((await fx.exec('pct exec 101 -- docker ps')).code).toBe(127);
    });

    it('refuses shell features it does not implement instead of half-running them', async () => {
      const result = await fx.exec(`pct exec 101 -- sh -c 'echo $HOME'`);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'sh: 1: unsupported shell feature in the Proxmox VE simulator: parameter expansion ($…)\n',
      );
    });

    it('writes files from stdin and reads them back', async () => {
      expect((await fx.exec('pct exec 101 -- mkdir -p /opt/app/conf')).code).toBe(0);
      expect((await fx.exec('pct exec 101 -- tee /opt/app/conf/a.txt', 'alpha\n')).stdout).toBe(
        'alpha\n',
      );
      expect(
        (await fx.exec("pct exec 101 -- sh -c 'cat > /opt/app/conf/b.txt'", 'beta\n')).code,
      ).toBe(0);
      expect(
        (
          await fx.exec(
            "pct exec 101 -- sh -c 'cat /opt/app/conf/a.txt /opt/app/conf/b.txt | grep -c a'",
          )
        ).stdout,
      ).toBe(
        'alpha\nbeta\n'
          .split('\n')
          .filter((l) => l.includes('a'))
          .join('\n') + '\n',
      );
      expect(await fx.exec('pct exec 101 -- cat /opt/missing')).toEqual({
        code: 1,
        stdout: '',
        stderr: 'cat: /opt/missing: No such file or directory\n',
      });
      expect((await fx.exec('pct exec 101 -- mkdir /opt/x/y')).stderr).toBe(
        "mkdir: cannot create directory '/opt/x/y': No such file or directory\n",
      );
    });

    it('copies, moves, tests, lists and removes files with the basic commands', async () => {
      const run = (script: string): ReturnType<SimulatorFixture['exec']> =>
        fx.exec(`pct exec 101 -- sh -c ${quote(script)}`);
      expect(
        await run(
          'mkdir -p /srv/t && touch /srv/t/a && cp /srv/t/a /srv/t/b && mv /srv/t/b /srv/t/c',
        ),
      ).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await run('ls /srv/t')).stdout.split('\n').sort()).toEqual(['', 'a', 'c']);
      expect(
        (await run('chmod 0755 /srv/t/c && [ -x /srv/t/c ] && test ! -e /srv/t/b && echo yes'))
          .stdout,
      ).toBe('yes\n');
      expect(await run('rm /srv/t/a && ls /srv/t')).toEqual({ code: 0, stdout: 'c\n', stderr: '' });
      expect(await run('rm /srv/t')).toEqual({
        code: 1,
        stdout: '',
        stderr: "rm: cannot remove '/srv/t': Is a directory\n",
      });
      expect(await run('cp /srv/nope /srv/t/x')).toEqual({
        code: 1,
        stdout: '',
        stderr: "cp: cannot stat '/srv/nope': No such file or directory\n",
      });
      expect(await run('which grep nosuch')).toEqual({
        code: 1,
        stdout: '/usr/bin/grep\n',
        stderr: '',
      });
      expect(await run('sleep 0 && id && whoami && uname')).toEqual({
        code: 0,
        stdout: 'uid=0(root) gid=0(root) groups=0(root)\nroot\nLinux\n',
        stderr: '',
      });
      expect((await run('uname -a')).stdout).toMatch(/^Linux \S+ 6\.8\.12-4-pve .* GNU\/Linux\n$/);
    });

    it('pushes a node file into the container', async () => {
      expect((await fx.exec('cat > /tmp/compose.yaml', 'services: {}\n')).code).toBe(0);
      expect(
        await fx.exec('pct push 101 /tmp/compose.yaml /root/compose.yaml --perms 0600'),
      ).toEqual({ code: 0, stdout: '', stderr: '' });
      expect((await fx.exec('pct exec 101 -- cat /root/compose.yaml')).stdout).toBe(
        'services: {}\n',
      );
      expect((await fx.exec('pct push 102 /tmp/compose.yaml /root/x')).stderr).toBe(
        'can only push files to a running CT\n',
      );
      expect((await fx.exec('pct push 101 /tmp/nope /root/x')).stderr).toBe(
        'failed to open /tmp/nope for reading\n',
      );
      expect((await fx.exec('pct push 101 /tmp/compose.yaml /nodir/x')).stderr).toBe(
        'failed to create file: /nodir/x: No such file or directory\n',
      );
    });
  });

  describe('other pct commands', () => {
    it('sets root-only options, shows config, status and the list', async () => {
      expect(await fx.exec('pct set 102 --features nesting=1,keyctl=1 --tags web')).toEqual({
        code: 0,
        stdout: '',
        stderr: '',
      });
      const config = await fx.exec('pct config 102');
      expect(config.stdout).toContain('features: nesting=1,keyctl=1\n');
      expect(config.stdout).toContain('tags: web\n');
      expect((await fx.exec('pct set 102 --memory 4')).stderr).toBe(
        '400 Parameter verification failed.\nmemory: value must have a minimum value of 16\n',
      );
      expect((await fx.exec('pct status 101')).stdout).toBe('status: running\n');
      expect((await fx.exec('pct list')).stdout.split('\n')[0]).toMatch(
        /^VMID\s+Status\s+Lock\s+Name$/,
      );
      expect((await fx.exec('pct start 102')).stderr).toBe(
        'pct start: not supported by the Proxmox VE simulator (use the API)\n',
      );
      expect(await fx.exec('pct frob 102')).toEqual({
        code: 255,
        stdout: '',
        stderr: "ERROR: unknown command 'pct frob'\n",
      });
    });
  });

  describe('installing Docker and running compose', () => {
    it('needs apt lists before installing, and Docker before docker', async () => {
      expect(await fx.exec('pct exec 103 -- apt-get install -y curl')).toMatchObject({
        code: 100,
        stderr: 'E: Unable to locate package curl\n',
      });
      expect(await fx.exec('pct exec 103 -- docker --version')).toMatchObject({ code: 127 });
    });

    it('installs Docker with the convenience script and then runs a compose project', async () => {
      const install = await fx.exec(
        "pct exec 101 -- sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates curl && curl -fsSL https://get.docker.com | sh'",
      );
      expect(install.code).toBe(0);
      expect((await fx.exec('pct exec 101 -- docker --version')).stdout).toBe(
        'Docker version 27.3.1, build ce12230\n',
      );
      expect((await fx.exec('pct exec 101 -- docker compose version')).stdout).toBe(
        'Docker Compose version v2.29.7\n',
      );
      await fx.exec('pct exec 101 -- mkdir -p /opt/shop');
      await fx.exec('pct exec 101 -- tee /opt/shop/compose.yaml', COMPOSE_FILE);
      await fx.exec('pct exec 101 -- tee /opt/shop/.env', 'WEB_PORT=8181\n');
      expect(
        (await fx.exec('pct exec 101 -- docker compose -f /opt/shop/compose.yaml up')).stderr,
      ).toMatch(/detached only/);
      const up = await fx.exec(
        'pct exec 101 -- docker compose -f /opt/shop/compose.yaml --env-file /opt/shop/.env up -d',
      );
      expect(up.code).toBe(0);
      expect(up.stderr).toContain(' Container shop-web-1  Started');
      const ps = await fx.exec(
        'pct exec 101 -- docker compose -f /opt/shop/compose.yaml ps --format json',
      );
      const rows = ps.stdout
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              Service: string;
              State: string;
              Publishers: Array<{ PublishedPort: number; TargetPort: number }>;
            },
        );
      expect(rows.map((row) => [row.Service, row.State])).toEqual([
        ['web', 'running'],
        ['worker', 'running'],
      ]);
      expect(rows[0].Publishers).toEqual([
        { URL: '0.0.0.0', TargetPort: 80, PublishedPort: 8181, Protocol: 'tcp' },
      ]);
      expect((await fx.exec('pct exec 101 -- curl -fsS http://localhost:8181/')).stdout).toBe(
        'web',
      );
      expect(
        (
          await fx.exec(
            'pct exec 101 -- docker compose -f /opt/shop/compose.yaml logs --tail 1 web',
          )
        ).stdout,
      ).toMatch(/^web-1 {2}\| .*"GET \/ HTTP\/1\.1" 200 3\n$/);
      expect(
        (await fx.exec('pct exec 101 -- docker compose -f /opt/shop/compose.yaml pull')).stderr,
      ).toContain(' web Pulled');
      const state = await fx.state();
      expect(state.containers.find((c) => c.vmid === 101)?.services).toEqual(['web', 'worker']);
      expect(
        (await fx.exec('pct exec 101 -- docker compose -f /opt/shop/compose.yaml down')).code,
      ).toBe(0);
      expect(
        (await fx.exec('pct exec 101 -- docker compose -f /opt/shop/compose.yaml ps --format json'))
          .stdout,
      ).toBe('');
      expect(
        (await fx.exec('pct exec 101 -- docker compose -f /opt/shop/missing.yaml up -d')).stderr,
      ).toBe('open /opt/shop/missing.yaml: no such file or directory\n');
    });

    it("installs Docker with Docker's documented apt steps, refusing an unsigned repository", async () => {
      const run = async (script: string) => fx.exec(`pct exec 104 -- sh -c ${quote(script)}`);
      expect(
        (await run('apt-get update -qq && apt-get install -y -qq ca-certificates curl')).code,
      ).toBe(0);
      const source =
        'deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable';
      expect(
        (await run(`echo '${source}' | tee /etc/apt/sources.list.d/docker.list > /dev/null`)).code,
      ).toBe(0);
      const unsigned = await run('apt-get update -qq');
      expect(unsigned.code).toBe(100);
      expect(unsigned.stderr).toContain(
        "E: The repository 'https://download.docker.com/linux/debian bookworm InRelease' is not signed.",
      );
      const keyed = await run(
        'install -m 0755 -d /etc/apt/keyrings && curl -fsSL https://download.docker.com/linux/debian/gpg -o /etc/apt/keyrings/docker.asc && chmod a+r /etc/apt/keyrings/docker.asc && apt-get update -qq && apt-get install -y -qq docker-ce docker-ce-cli containerd.io docker-compose-plugin',
      );
      expect(keyed.code).toBe(0);
      expect((await fx.exec('pct exec 104 -- systemctl is-active docker')).stdout).toBe('active\n');
      expect((await fx.exec('pct exec 104 -- dpkg -s docker-compose-plugin')).stdout).toContain(
        'Status: install ok installed',
      );
    });

    it('refuses to run Docker in an unprivileged container without nesting', async () => {
      await fx.exec(
        "pct exec 103 -- sh -c 'apt-get update -qq && apt-get install -y -qq curl && curl -fsSL https://get.docker.com | sh'",
      );
      await fx.exec(
        'pct exec 103 -- tee /root/compose.yaml',
        'services:\n  app:\n    image: nginx\n',
      );
      const up = await fx.exec('pct exec 103 -- docker compose -f /root/compose.yaml up -d');
      expect(up.code).toBe(1);
      expect(up.stderr).toMatch(
        /^Error response from daemon: .*error mounting "proc" to rootfs at "\/proc".*permission denied/,
      );
    });
  });

  describe('port forwarding rules (nftables)', () => {
    it('adds, lists as JSON and deletes DNAT rules in a proximity table', async () => {
      expect((await fx.exec('nft list table ip proximity')).stderr).toMatch(
        /^Error: Could not process rule: No such file or directory/,
      );
      expect((await fx.exec('nft add table ip proximity')).code).toBe(0);
      expect(
        (
          await fx.exec(
            `nft add chain ip proximity prerouting '{ type nat hook prerouting priority dstnat; policy accept; }'`,
          )
        ).code,
      ).toBe(0);
      const added = await fx.exec(
        `nft -e -a add rule ip proximity prerouting tcp dport 31000 dnat to 127.77.0.1:8181 comment '"app-42"'`,
      );
      expect(added.stdout).toBe(
        'add rule ip proximity prerouting tcp dport 31000 dnat to 127.77.0.1:8181 comment "app-42" # handle 2\n',
      );
      const listing = JSON.parse((await fx.exec('nft -j list table ip proximity')).stdout) as {
        nftables: Array<Record<string, Record<string, unknown>>>;
      };
      const rules = listing.nftables.filter((item) => item.rule).map((item) => item.rule);
      expect(rules).toEqual([
        {
          family: 'ip',
          table: 'proximity',
          chain: 'prerouting',
          handle: 2,
          comment: 'app-42',
          expr: [
            {
              match: {
                op: '==',
                left: { payload: { protocol: 'tcp', field: 'dport' } },
                right: 31000,
              },
            },
            { dnat: { addr: '127.77.0.1', port: 8181 } },
          ],
        },
      ]);
      expect((await fx.state()).forwards).toEqual([
        {
          node: 'pve1',
          publicPort: 31000,
          protocol: 'tcp',
          target: '127.77.0.1:8181',
          comment: 'app-42',
        },
      ]);
      expect((await fx.exec('nft delete rule ip proximity prerouting handle 2')).code).toBe(0);
      expect((await fx.exec('nft delete rule ip proximity prerouting handle 2')).code).toBe(1);
      expect((await fx.state()).forwards).toEqual([]);
      expect(
        (await fx.exec('nft add rule ip proximity prerouting tcp dport 1 jump somewhere')).stderr,
      ).toMatch(/^Error: syntax error/);
    });
  });
});
