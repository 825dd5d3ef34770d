import { EntityManager } from '@mikro-orm/postgresql';
import { PinoLogger } from 'nestjs-pino';
import { randomBytes, randomUUID } from 'node:crypto';
import { expectError } from '../support/expectations';
import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

/** A value no log line can contain by chance. */
const marker = (label: string): string => `${label}-${randomBytes(6).toString('hex')}`;

const INSERT_USER =
  'insert into user_account (id, username, password_hash, role, created_at, updated_at) values (?, ?, ?, ?, now(), now())';

interface LogEntry {
  level: number;
  msg: string;
  requestId?: string;
  err?: { type: string; message: string; stack: string; code?: string; constraint?: string };
}

describe('database errors are logged without the values bound to the statement', () => {
  let t: TestApp;
  let admin: Session;

  const sql = (query: string, params: unknown[] = []) =>
    t.app.get(EntityManager).fork().getConnection().execute(query, params);

  /** The error lines written since `from`, with the captured text of those lines. */
  const errorLinesSince = (from: number): { entries: LogEntry[]; text: string } => {
    const lines = t.logs.lines.slice(from);
    const entries = lines.map((l) => JSON.parse(l) as LogEntry).filter((e) => e.err);
    return { entries, text: lines.join('\n') };
  };

  beforeAll(async () => {
    t = await startFreshApp();
    admin = await loginAdmin(t);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a username typed at the login form stays out of the log when the login query fails', async () => {
    const username = marker('typed-user');
    const from = t.logs.lines.length;
    await sql('alter table user_account rename column username to username_moved');
    let res;
    try {
      res = await t.http().post('/api/auth/login').send({ username, password: 'whatever-123456' });
    } finally {
      await sql('alter table user_account rename column username_moved to username');
    }
    expectError(res, 500);
    const { entries, text } = errorLinesSince(from);
    const logged = entries.find((e) => e.requestId === res.headers['x-request-id']);
    expect(logged?.err).toMatchObject({
      code: '42703',
      message: expect.stringContaining('does not exist'),
    });
    expect(text).not.toContain(username);
  });

  it('a host insert refused by the database logs the constraint, no column value and no ciphertext', async () => {
    const name = marker('refused');
    const tokenSecret = randomUUID();
    const sshPassword = marker('ssh-pw');
    await sql(
      `alter table proxmox_host add constraint log_redaction_probe check (name <> '${name}')`,
    );
    const from = t.logs.lines.length;
    let res;
    try {
      res = await t.http().post('/api/proxmox/hosts').set(bearer(admin)).send({
        name,
        host: 'pve.lan',
        tokenId: 'root@pam!proximity',
        tokenSecret,
        tlsInsecure: true,
        sshPassword,
        sshInsecure: true,
      });
    } finally {
      await sql('alter table proxmox_host drop constraint log_redaction_probe');
    }
    expectError(res, 500);
    const { entries, text } = errorLinesSince(from);
    expect(entries.find((e) => e.requestId === res.headers['x-request-id'])?.err).toMatchObject({
      type: 'CheckConstraintViolationException',
      code: '23514',
      constraint: 'log_redaction_probe',
      table: 'proxmox_host',
    });
    for (const value of [name, tokenSecret, sshPassword, 'pxe1.', 'pve.lan', 'root@pam']) {
      expect(text).not.toContain(value);
    }
  });

  describe('real PostgreSQL errors, as the application logger writes them', () => {
    const logged = async (
      query: string,
      params: unknown[],
    ): Promise<{ err: NonNullable<LogEntry['err']>; text: string }> => {
      const error = await sql(query, params).then(
        () => null,
        (e: unknown) => e as Error,
      );
      if (!error) throw new Error('the statement was expected to fail');
      const from = t.logs.lines.length;
      const logger = await t.app.resolve(PinoLogger);
      logger.error({ err: error }, 'probe');
      // The same error wrapped by code that kept it as the cause.
      logger.error({ err: new Error('operation failed', { cause: error }) }, 'probe');
      const { entries, text } = errorLinesSince(from);
      expect(entries).toHaveLength(2);
      return { err: entries[0].err!, text };
    };

    it('unique violation: the key in `detail` and the inlined values are dropped, the reason kept', async () => {
      const taken = marker('taken - name');
      const hash = marker('hash');
      await sql(INSERT_USER, [randomUUID(), taken, hash, 'user']);
      const { err, text } = await logged(INSERT_USER, [
        randomUUID(),
        taken.toUpperCase(),
        marker('other-hash'),
        'user',
      ]);
      expect(err).toMatchObject({
        code: '23505',
        constraint: 'user_account_username_lower_unique',
        message: expect.stringContaining('duplicate key value violates unique constraint'),
      });
      expect(text.toLowerCase()).not.toContain(taken.toLowerCase());
      expect(text).not.toContain('hash-');
    });

    it('not-null violation: "Failing row contains (…)" is dropped', async () => {
      const username = marker('row-value');
      const { err, text } = await logged(
        'insert into user_account (id, username, password_hash, role, created_at, updated_at) values (?, ?, null, ?, now(), now())',
        [randomUUID(), username, 'user'],
      );
      expect(err).toMatchObject({ code: '23502', column: 'password_hash' });
      expect(text).not.toContain(username);
    });

    it.each([
      ['invalid input syntax (22P02)', 'select 1 from user_account where id = ?', 'not-a-uuid'],
      ['numeric out of range (22003)', 'select ?::int', '99999999999'],
      [
        'value too long (22001)',
        "insert into user_account (id, username, password_hash, role, created_at, updated_at) values (gen_random_uuid(), ?, 'h', 'user', now(), now())",
        'x'.repeat(70),
      ],
      ['syntax error near a literal (42601)', 'select 1 ?', 'literal'],
    ])('%s: the message that quotes the value is withheld, the code kept', async (_l, q, v) => {
      // Digits only, so the value stays valid for the cast it is meant to break.
      const unique = String(Date.now()) + String(randomBytes(2).readUInt16BE());
      const value = v === '99999999999' ? `9${unique}` : `${v}${unique}`;
      const { err, text } = await logged(q, [value]);
      expect(err.code).toMatch(/^(22|42)/);
      expect(err.message).toContain('withheld');
      expect(text).not.toContain(unique);
    });

    it('NUL byte in a value: refused by the protocol, logged without the value', async () => {
      const value = marker('nul');
      const { err, text } = await logged('select 1 from user_account where username = ?', [
        `${value}\u0000tail`,
      ]);
      expect(err.code).toMatch(/^[0-9A-Z]{5}$/);
      expect(text).not.toContain(value);
    });
  });
});
