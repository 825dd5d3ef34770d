import { databaseUrl, dropDatabase, workerDatabase } from '../support/databases';
import { spawnEntry } from '../support/spawn-app';
import { resetState, startApp, testEnvironment } from '../support/test-app';
import { login } from '../support/users';

describe('admin CLI: user:create', () => {
  const env = testEnvironment({}, 'cli');
  delete env.PROXIMITY_ADMIN_USERNAME;
  delete env.PROXIMITY_ADMIN_PASSWORD;

  beforeAll(() => resetState(env, 'cli'));

  it('creates an admin with a generated password printed once; the account signs in', async () => {
    const run = spawnEntry('src/cli.ts', env, ['user:create', '--admin']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toContain("created admin 'admin'");
    const password = /password: (\S+)/.exec(run.stdout())?.[1] ?? '';
    expect(password.length).toBeGreaterThanOrEqual(20);
    const t = await startApp(env);
    try {
      const session = await login(t, 'admin', password);
      const me = await t
        .http()
        .get('/api/auth/me')
        .set('Authorization', `Bearer ${session.accessToken}`);
      expect(me.body.role).toBe('admin');
    } finally {
      await t.close();
    }
  });

  it('takes the password from PROXIMITY_NEW_PASSWORD without printing it, and refuses a taken name', async () => {
    const secret = 'cli-given-password-1';
    const run = spawnEntry('src/cli.ts', { ...env, PROXIMITY_NEW_PASSWORD: secret }, [
      'user:create',
      '--username',
      'ops',
    ]);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toBe("created user 'ops'\n");
    const again = spawnEntry('src/cli.ts', { ...env, PROXIMITY_NEW_PASSWORD: secret }, [
      'user:create',
      '--username',
      'OPS',
    ]);
    expect(await again.exited).toBe(2);
    expect(again.stderr()).toContain("username 'OPS' is taken");
    const short = spawnEntry('src/cli.ts', { ...env, PROXIMITY_NEW_PASSWORD: 'short' }, [
      'user:create',
      '--username',
      'x1y2z3',
    ]);
    expect(await short.exited).toBe(2);
    expect(short.stderr()).toContain('at least 12 characters');
    expect(short.stderr()).not.toContain('short\n');
  });
});

describe('admin CLI: migrate', () => {
  const database = workerDatabase('climigrate');
  const env = testEnvironment({ DATABASE_URL: databaseUrl(database) }, 'climigrate');

  beforeAll(() => dropDatabase(database));

  it('creates the database, applies every migration and writes plain text to a pipe', async () => {
    const run = spawnEntry('src/cli.ts', env, ['migrate']);
    expect(await run.exited).toBe(0);
    expect(run.stdout()).toMatch(/\[migrator\] Applied '\w+'/);
    expect(run.stdout()).toMatch(/^applied \w+/m);
    // Escape sequences are noise in a log file or a container's log.
    expect(run.stdout() + run.stderr()).not.toContain('\x1b[');
    const again = spawnEntry('src/cli.ts', env, ['migrate']);
    expect(await again.exited).toBe(0);
    expect(again.stdout()).toBe('database is up to date\n');
  });
});
