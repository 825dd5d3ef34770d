import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/free-port';
import { type Spawned, spawnEntry, waitFor } from '../support/spawn-app';
import { resetState, testEnvironment } from '../support/test-app';

/** Three starts of the demo, each compiling its sources in a fresh process on a busy machine. */
const DEMO_TEST_TIMEOUT_MS = 240_000;
/** Bounds a hang of one start (compile, migrations, deployment): not a timing. */
const START_DEADLINE_MS = 110_000;

/**
 * `npm run demo` as a new user runs it: the script in its own process, on a
 * database and Redis prefix of its own, its state in a temporary directory.
 */
describe('the demo script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'proximity-demo-'));
  const env = testEnvironment(
    {
      PROXIMITY_DEMO_DIR: dir,
      // Below the ephemeral ports and apart from the other test files' pools.
      PROXIMITY_DEMO_PORTS: '31900-31909',
      LOG_LEVEL: 'warn',
    },
    'demo',
  );
  // The demo generates these itself, once, into its env file.
  for (const key of [
    'JWT_SECRET',
    'PROXIMITY_ENCRYPTION_KEY',
    'PROXIMITY_ADMIN_USERNAME',
    'PROXIMITY_ADMIN_PASSWORD',
  ])
    delete env[key];

  beforeAll(async () => {
    await resetState(env, 'demo');
    env.PORT = String(await freePort());
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function start(): Promise<{ demo: Spawned; url: string; line: string }> {
    const demo = spawnEntry('scripts/demo.ts', env);
    const printed = waitFor(
      () => Promise.resolve(/^ {2}Demo app: .*$/m.exec(demo.stdout())?.[0]),
      START_DEADLINE_MS,
    );
    const exited = demo.exited.then((code) => {
      throw new Error(`the demo exited (${code}): ${demo.stderr()}`);
    });
    const line = await Promise.race([printed, exited]);
    // The server log says why; the printed line only says that it failed.
    if (line.includes('deployment failed'))
      throw new Error(`${line}\n${demo.stdout()}\n${demo.stderr()}`);
    const url = /http:\/\/\S+/.exec(line)?.[0] ?? '';
    return { demo, url, line };
  }

  async function stop(demo: Spawned): Promise<void> {
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  }

  it(
    'deploys the demo app and prints a URL that answers; a restart keeps it, a lost cluster redeploys it',
    async () => {
      const first = await start();
      expect(first.line).toMatch(/^ {2}Demo app: {3}http:\/\/127\.0\.0\.1:3190\d {2}\(deployed\)$/);
      const page = await fetch(first.url);
      expect(`${page.status} ${await page.text()}`).toBe('200 whoami');
      expect(first.demo.stdout()).toContain('Press Ctrl-C to stop.');
      await stop(first.demo);

      const second = await start();
      expect(second.line).toBe(`  Demo app:   ${first.url}  (running)`);
      expect((await fetch(second.url)).status).toBe(200);
      await stop(second.demo);

      // The simulated cluster lost (its file removed): the demo app is deployed again.
      rmSync(join(dir, 'demo-cluster.json'));
      const third = await start();
      expect(third.line).toMatch(/^ {2}Demo app: {3}http:\/\/127\.0\.0\.1:3190\d {2}\(deployed\)$/);
      expect((await fetch(third.url)).status).toBe(200);
      await stop(third.demo);
    },
    DEMO_TEST_TIMEOUT_MS,
  );
});
