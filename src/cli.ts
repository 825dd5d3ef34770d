import 'reflect-metadata';
import { MikroORM, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { ConfigError } from './config/environment';
import { loadConfig } from './config/load-config';
import { rotateSecrets } from './crypto/key-rotation';
import { migrate } from './database/migrate';
import { RECONCILE_WAIT_MS, requestReconcile } from './maintenance/reconcile-command';
import { buildOrmOptions } from './database/orm-options';
import { PasswordHasher } from './users/password-hasher';
import { User, UserRole } from './users/user.entity';
import { PASSWORD_MIN, USERNAME_PATTERN } from './users/users.dto';

const USAGE = `Usage:
  proximity-cli migrate
      Create the database if needed and apply pending migrations.
  proximity-cli keys:rotate
      Re-encrypt every stored secret under PROXIMITY_ENCRYPTION_KEY. The previous
      key must be listed in PROXIMITY_ENCRYPTION_KEYS_OLD while this runs; it is
      resumable and can be repeated.
  proximity-cli user:create [--username NAME] [--admin]
      Create a user (default name: admin). The password is read from
      PROXIMITY_NEW_PASSWORD, or generated and printed once.
  proximity-cli reconcile [--wait-seconds N]
      Run one reconcile pass on a worker (overdue operations, orphaned port
      allocations, forwarding rules, containers and temporary snapshots,
      vanished containers) and print its summary as JSON. Needs a running
      worker; gives up after N seconds (default 600) if none finished it.`;

async function createUser(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { username: { type: 'string' }, admin: { type: 'boolean', default: false } },
  });
  const username = values.username ?? 'admin';
  if (!username || !USERNAME_PATTERN.test(username)) {
    throw new UsageError('--username must be 3..64 characters of letters, digits, ".", "_" or "-"');
  }
  const given = loadPasswordFromEnvironment();
  const password = given ?? randomBytes(18).toString('base64url');
  const config = loadConfig();
  const orm = await MikroORM.init(buildOrmOptions(config.database));
  try {
    const em = orm.em.fork();
    em.create(User, {
      username,
      passwordHash: await new PasswordHasher().hash(password),
      role: values.admin ? UserRole.Admin : UserRole.User,
    });
    await em.flush();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) {
      throw new UsageError(`username '${username}' is taken`);
    }
    throw err;
  } finally {
    await orm.close(true);
  }
  process.stdout.write(`created ${values.admin ? 'admin' : 'user'} '${username}'\n`);
  if (!given) process.stdout.write(`password: ${password}\n`);
}

function loadPasswordFromEnvironment(): string | null {
  const password = process.env.PROXIMITY_NEW_PASSWORD;
  if (password === undefined || password === '') return null;
  if (password.length < PASSWORD_MIN) {
    throw new UsageError(`PROXIMITY_NEW_PASSWORD must be at least ${PASSWORD_MIN} characters`);
  }
  return password;
}

async function rotateKeys(): Promise<void> {
  const config = loadConfig();
  const orm = await MikroORM.init(buildOrmOptions(config.database));
  try {
    const rewritten = await rotateSecrets(orm, config.keyring, 100, (table, rows) =>
      process.stdout.write(`${table}: re-encrypted ${rows} rows\n`),
    );
    process.stdout.write(`done: ${rewritten} rows now use key ${config.keyring.currentKeyId}\n`);
  } finally {
    await orm.close(true);
  }
}

async function reconcile(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { 'wait-seconds': { type: 'string' } } });
  const given = values['wait-seconds'];
  const waitSeconds = given === undefined ? RECONCILE_WAIT_MS / 1000 : Number(given);
  if (!Number.isInteger(waitSeconds) || waitSeconds < 1) {
    throw new UsageError('--wait-seconds must be a whole number of seconds, at least 1');
  }
  const summary = await requestReconcile(loadConfig(), waitSeconds * 1000);
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'migrate': {
      const applied = await migrate(loadConfig());
      process.stdout.write(
        applied.length > 0 ? `applied ${applied.join(', ')}\n` : 'database is up to date\n',
      );
      return;
    }
    case 'user:create':
      return createUser(rest);
    case 'keys:rotate':
      return rotateKeys();
    case 'reconcile':
      return reconcile(rest);
    default:
      throw new UsageError(USAGE);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof ConfigError || err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`failed: ${(err as Error).message}\n`);
  process.exit(1);
});
