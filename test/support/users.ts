import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app';
import { ADMIN_PASSWORD, ADMIN_USERNAME } from './test-app';

export interface Session {
  userId: string;
  username: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export async function login(t: TestApp, username: string, password: string): Promise<Session> {
  const res = await t.http().post('/api/auth/login').send({ username, password });
  if (res.status !== 200) throw new Error(`login of ${username} answered ${res.status}`);
  const body = res.body as { accessToken: string; refreshToken: string; user: { id: string } };
  return {
    userId: body.user.id,
    username,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
  };
}

export function loginAdmin(t: TestApp): Promise<Session> {
  return login(t, ADMIN_USERNAME, ADMIN_PASSWORD);
}

export function bearer(session: Session | string): { Authorization: string } {
  return { Authorization: `Bearer ${typeof session === 'string' ? session : session.accessToken}` };
}

let counter = 0;

/** Creates a user through the admin API and signs it in. */
export async function createUser(
  t: TestApp,
  admin: Session,
  role: 'admin' | 'user' = 'user',
): Promise<Session> {
  counter += 1;
  const username = `user${counter}-${randomBytes(3).toString('hex')}`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const res = await t
    .http()
    .post('/api/users')
    .set(bearer(admin))
    .send({ username, password, role });
  if (res.status !== 201) throw new Error(`creating ${username} answered ${res.status}`);
  return login(t, username, password);
}
