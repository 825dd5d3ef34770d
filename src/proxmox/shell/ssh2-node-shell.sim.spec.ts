import { createServer, Server, Socket } from 'node:net';
import {
  generateEd25519KeyPair,
  generateEncryptedKeyPair,
} from '../../../test/pve-simulator/identity/ssh-key-pair';
import { SimulatorFixture } from '../../../test/pve-simulator/testing/simulator-fixture';
import { ShellTarget } from './node-shell';
import { NodeShellErrorKind } from './shell-errors';
import {
  shellError,
  simTarget,
  tcpHandles,
  TrackingShell,
  visibleText,
  waitFor,
} from './testing/shell-fixture';
import { freePort } from '../../../test/support/free-port';

const OTHER_FINGERPRINT = 'SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

describe('Ssh2NodeShell against the Proxmox VE simulator', () => {
  const clientKey = generateEd25519KeyPair();
  const lockedKey = generateEncryptedKeyPair('open sesame');
  let fx: SimulatorFixture;
  let target: ShellTarget;
  let shell: TrackingShell;
  let handlesBefore: number;

  beforeAll(async () => {
    fx = await SimulatorFixture.start({
      sshAuthorizedKeys: [clientKey.public, lockedKey.public],
    });
    target = simTarget(fx.sim);
    await fx.createContainer(101, { start: true });
    await fx.createContainer(201, { start: true }, 'pve2');
  });

  afterAll(async () => {
    await fx?.close();
  });

  beforeEach(() => {
    shell = new TrackingShell();
    handlesBefore = tcpHandles();
  });

  afterEach(async () => {
    await fx.control('DELETE', '/_sim/faults');
  });

  /** Every socket the adapter opened is closed when the call settles, and the simulator's side follows. */
  async function expectNoLeak(): Promise<void> {
    expect(shell.open).toBe(0);
    expect(await waitFor(() => tcpHandles() <= handlesBefore)).toBe(true);
  }

  async function addFault(rule: Record<string, unknown>): Promise<void> {
    expect((await fx.control('POST', '/_sim/faults', { rules: [rule] })).status).toBe(201);
    handlesBefore = tcpHandles();
  }

  describe('running commands', () => {
    it('runs a command with password auth and returns its output', async () => {
      expect(await shell.run(target, { argv: ['hostname'], timeoutMs: 5_000 })).toEqual({
        exitCode: 0,
        stdout: 'pve1\n',
        stderr: '',
        truncated: false,
      });
      expect(shell.opened).toBe(1);
      await expectNoLeak();
    });

    it('authenticates with an ed25519 key', async () => {
      const byKey: ShellTarget = { ...target, auth: { privateKey: clientKey.private } };
      expect((await shell.run(byKey, { argv: ['whoami'], timeoutMs: 5_000 })).stdout).toBe(
        'root\n',
      );
      await expectNoLeak();
    });

    it('authenticates with a passphrase-protected key, and refuses a wrong passphrase before connecting', async () => {
      const byKey: ShellTarget = {
        ...target,
        auth: { privateKey: lockedKey.private, passphrase: 'open sesame' },
      };
      expect((await shell.run(byKey, { argv: ['true'], timeoutMs: 5_000 })).exitCode).toBe(0);
      const wrong = await shellError(
        shell.run(
          { ...byKey, auth: { privateKey: lockedKey.private, passphrase: 'nope' } },
          { argv: ['true'], timeoutMs: 5_000 },
        ),
      );
      expect(wrong.kind).toBe(NodeShellErrorKind.AuthFailed);
      expect(visibleText(wrong)).not.toContain('PRIVATE KEY');
      expect(shell.opened).toBe(1);
      await expectNoLeak();
    });

    it('reports a key the server does not accept as AuthFailed', async () => {
      const stranger = generateEd25519KeyPair();
      const error = await shellError(
        shell.run(
          { ...target, auth: { privateKey: stranger.private } },
          { argv: ['true'], timeoutMs: 5_000 },
        ),
      );
      expect(error.kind).toBe(NodeShellErrorKind.AuthFailed);
      await expectNoLeak();
    });

    it('returns a non-zero exit code as a result, with both streams', async () => {
      expect(
        await shell.run(target, {
          argv: ['sh', '-c', 'echo out; echo err 1>&2; exit 3'],
          timeoutMs: 5_000,
        }),
      ).toEqual({ exitCode: 3, stdout: 'out\n', stderr: 'err\n', truncated: false });
      await expectNoLeak();
    });

    it('runChecked turns a non-zero exit into CommandFailed with the scrubbed end of stderr', async () => {
      const error = await shellError(
        shell.runChecked(target, {
          argv: ['sh', '-c', 'cat 1>&2; exit 5'],
          stdin: `line 1\nline 2\napi key s3cr3t-token\nlogin ${fx.sim.sshPassword}\n`,
          secrets: ['s3cr3t-token'],
          timeoutMs: 5_000,
        }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.CommandFailed);
      expect(error.details.exitCode).toBe(5);
      expect(error.details.stderrTail).toBe('line 1\nline 2\napi key ********\nlogin ********');
      expect(error.message).toBe(`Command on 127.0.0.1:${fx.sim.sshPort} exited with status 5`);
      expect(visibleText(error)).not.toContain('s3cr3t-token');
      expect(visibleText(error)).not.toContain(fx.sim.sshPassword);
      await expectNoLeak();
    });

    it('delivers stdin (text and a large binary-safe buffer) and closes it', async () => {
      expect(
        (await shell.run(target, { argv: ['cat'], stdin: 'hello\nworld', timeoutMs: 5_000 }))
          .stdout,
      ).toBe('hello\nworld');
      const big = Buffer.from('0123456789abcdef\n'.repeat(20_000));
      const result = await shell.run(target, { argv: ['cat'], stdin: big, timeoutMs: 5_000 });
      expect(result.stdout.length).toBe(big.length);
      expect(result.stdout).toBe(big.toString());
      await expectNoLeak();
    });

    it('caps the output it keeps and says so', async () => {
      const result = await shell.run(target, {
        argv: ['cat'],
        stdin: 'x'.repeat(10_000),
        maxOutputBytes: 1_000,
        timeoutMs: 5_000,
      });
      expect(result).toEqual({
        exitCode: 0,
        stdout: 'x'.repeat(1_000),
        stderr: '',
        truncated: true,
      });
      await expectNoLeak();
    });

    it('passes an SSH fault that fails the command through as its exit status', async () => {
      await addFault({ sshCommand: 'fail-marker', status: 42, message: 'simulated failure' });
      expect(await shell.run(target, { argv: ['echo', 'fail-marker'], timeoutMs: 5_000 })).toEqual({
        exitCode: 42,
        stdout: '',
        stderr: 'simulated failure\n',
        truncated: false,
      });
      await expectNoLeak();
    });
  });

  describe('host key pinning', () => {
    it('refuses a host whose key does not match the pin, before authenticating or running anything', async () => {
      const error = await shellError(
        shell.run(
          { ...target, hostKey: { fingerprint: OTHER_FINGERPRINT } },
          { argv: ['touch', '/root/pwned'], timeoutMs: 5_000 },
        ),
      );
      expect(error.kind).toBe(NodeShellErrorKind.HostKeyMismatch);
      expect(error.message).toBe(
        `The SSH host key of 127.0.0.1:${fx.sim.sshPort} does not match the pinned fingerprint`,
      );
      expect(error.details.presentedFingerprint).toBe(fx.sim.sshHostKeyFingerprint);
      expect(visibleText(error)).not.toContain(fx.sim.sshPassword);
      await expectNoLeak();
      expect((await fx.exec('test -e /root/pwned')).code).toBe(1);
    });

    it('refuses a target without a usable pin unless insecure was chosen, without opening a socket', async () => {
      const unpinned: unknown[] = [
        {},
        { fingerprint: '' },
        { fingerprint: 'not-a-fingerprint' },
        { fingerprint: null },
        { insecure: false },
        { insecure: 'true' },
        null,
      ];
      for (const hostKey of unpinned) {
        const error = await shellError(
          shell.run({ ...target, hostKey } as ShellTarget, { argv: ['true'], timeoutMs: 5_000 }),
        );
        expect(error.kind).toBe(NodeShellErrorKind.HostKeyNotPinned);
      }
      expect(shell.opened).toBe(0);
    });

    it('accepts any host key with insecure: true, and tells which one it saw', async () => {
      const fingerprint = await shell.withSession(
        { ...target, hostKey: { insecure: true } },
        async (session) => {
          expect((await session.run({ argv: ['true'], timeoutMs: 5_000 })).exitCode).toBe(0);
          return session.hostKeyFingerprint;
        },
      );
      expect(fingerprint).toBe(fx.sim.sshHostKeyFingerprint);
      await expectNoLeak();
    });

    it('accepts the pin with the padding some tools print', async () => {
      const padded = { ...target, hostKey: { fingerprint: `${fx.sim.sshHostKeyFingerprint}=` } };
      expect((await shell.run(padded, { argv: ['true'], timeoutMs: 5_000 })).exitCode).toBe(0);
    });
  });

  describe('connection failures', () => {
    it('reports a wrong password as AuthFailed without repeating it', async () => {
      const error = await shellError(
        shell.run(
          { ...target, auth: { password: 'wrong-Passw0rd!' } },
          { argv: ['true'], timeoutMs: 5_000 },
        ),
      );
      expect(error.kind).toBe(NodeShellErrorKind.AuthFailed);
      expect(error.message).toBe(`SSH authentication to 127.0.0.1:${fx.sim.sshPort} failed`);
      expect(visibleText(error)).not.toContain('wrong-Passw0rd!');
      expect(error.transient).toBe(false);
      await expectNoLeak();
    });

    it('reports a closed port as Unreachable', async () => {
      const port = await freePort();
      const error = await shellError(
        shell.run({ ...target, port, node: 'pve9' }, { argv: ['true'], timeoutMs: 5_000 }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.Unreachable);
      expect(error.message).toBe(
        `SSH server pve9 (127.0.0.1:${port}) is unreachable (ECONNREFUSED)`,
      );
      expect(error.transient).toBe(true);
      await expectNoLeak();
    });

    it('gives up on a server that never completes the handshake', async () => {
      const silent = await listenSilently();
      try {
        const started = Date.now();
        const error = await shellError(
          shell.run(
            { ...target, port: silent.port, connectTimeoutMs: 200 },
            { argv: ['true'], timeoutMs: 5_000 },
          ),
        );
        expect(error.kind).toBe(NodeShellErrorKind.ConnectTimeout);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(shell.open).toBe(0);
      } finally {
        await silent.close();
      }
      await expectNoLeak();
    });
  });

  describe('command failures', () => {
    it('times out a slow command quickly and closes the connection', async () => {
      await addFault({ sshCommand: 'slow-marker', delayMs: 2_000 });
      const started = Date.now();
      const error = await shellError(
        shell.run(target, { argv: ['echo', 'slow-marker'], timeoutMs: 300 }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.CommandTimeout);
      expect(error.message).toBe('The command did not finish within 300 ms');
      expect(Date.now() - started).toBeLessThan(1_500);
      await expectNoLeak();
    });

    it('reports a connection dropped mid-command as ConnectionLost', async () => {
      await addFault({ sshCommand: 'drop-marker', delayMs: 100, dropConnection: true });
      const error = await shellError(
        shell.run(target, { argv: ['echo', 'drop-marker'], timeoutMs: 5_000 }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.ConnectionLost);
      expect(visibleText(error)).not.toContain(fx.sim.sshPassword);
      await expectNoLeak();
    });

    it('reports a connection dropped as the command arrives as ConnectionLost', async () => {
      await addFault({ sshCommand: 'drop-marker', dropConnection: true });
      const error = await shellError(
        shell.run(target, { argv: ['echo', 'drop-marker'], timeoutMs: 5_000 }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.ConnectionLost);
      await expectNoLeak();
    });

    it('refuses an unusable command before connecting', async () => {
      const bad = [
        { argv: [], timeoutMs: 1_000 },
        { argv: ['echo', 'a\0b'], timeoutMs: 1_000 },
        { argv: ['true'], timeoutMs: 0 },
        { argv: ['true'], timeoutMs: 1_000, maxOutputBytes: -1 },
      ];
      for (const command of bad) {
        expect((await shellError(shell.run(target, command))).kind).toBe(
          NodeShellErrorKind.InvalidInput,
        );
      }
      const hop: ShellTarget = { ...target, via: 'hop', node: 'pve2; reboot' };
      expect((await shellError(shell.run(hop, { argv: ['true'], timeoutMs: 1_000 }))).kind).toBe(
        NodeShellErrorKind.InvalidInput,
      );
      expect(shell.opened).toBe(0);
    });
  });

  describe('sessions', () => {
    it('runs several commands over one connection and closes it', async () => {
      const outputs = await shell.withSession(target, async (session) => [
        (await session.run({ argv: ['hostname'], timeoutMs: 5_000 })).stdout,
        (await session.run({ argv: ['pct', 'exec', '101', '--', 'hostname'], timeoutMs: 5_000 }))
          .stdout,
      ]);
      expect(outputs).toEqual(['pve1\n', 'ct101\n']);
      expect(shell.opened).toBe(1);
      await expectNoLeak();
    });

    it('closes the connection when the work throws, and is unusable after a timeout', async () => {
      await addFault({ sshCommand: 'slow-marker', delayMs: 2_000 });
      const error = await shellError(
        shell.withSession(target, async (session) => {
          const timeout = await shellError(
            session.run({ argv: ['echo', 'slow-marker'], timeoutMs: 100 }),
          );
          expect(timeout.kind).toBe(NodeShellErrorKind.CommandTimeout);
          return session.run({ argv: ['true'], timeoutMs: 1_000 });
        }),
      );
      expect(error.kind).toBe(NodeShellErrorKind.ConnectionLost);
      expect(error.message).toBe('The SSH connection is already closed');
      await expectNoLeak();
    });

    it('closes the connection when the work fails for its own reasons', async () => {
      await expect(
        shell.withSession(target, () => Promise.reject(new Error('caller bug'))),
      ).rejects.toThrow('caller bug');
      await expectNoLeak();
    });
  });

  describe('reaching the node that holds the container', () => {
    it('hops to another cluster node with stdin passed through', async () => {
      const hop: ShellTarget = { ...target, via: 'hop', node: 'pve2' };
      expect((await shell.run(hop, { argv: ['hostname'], timeoutMs: 5_000 })).stdout).toBe(
        'pve2\n',
      );
      const pushed = await shell.run(hop, {
        argv: ['pct', 'exec', '201', '--', 'sh', '-c', 'cat > /root/note.txt'],
        stdin: "it's $(here)\n",
        timeoutMs: 5_000,
      });
      expect(pushed.exitCode).toBe(0);
      await expectNoLeak();
      expect((await fx.exec('ssh pve2 pct exec 201 -- cat /root/note.txt')).stdout).toBe(
        "it's $(here)\n",
      );
    });

    it("does not reach another node's containers without the hop", async () => {
      const direct = await shell.run(
        { ...target, node: 'pve1' },
        { argv: ['pct', 'exec', '201', '--', 'true'], timeoutMs: 5_000 },
      );
      expect(direct.exitCode).toBe(255);
      expect(direct.stderr).toBe("Configuration file 'nodes/pve1/lxc/201.conf' does not exist\n");
    });
  });
});

/** A TCP server that accepts and never speaks: an SSH handshake against it can only time out. */
async function listenSilently(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
