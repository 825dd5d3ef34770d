import { startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin } from '../support/users';

describe('smoke', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startFreshApp();
  });
  afterAll(() => t.close());

  it('logs in and reads me', async () => {
    const admin = await loginAdmin(t);
    const res = await t.http().get('/api/auth/me').set(bearer(admin));
    expect(res.status).toBe(200);
    expect(res.body.username).toBe('admin');
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
  });
});
