import { MikroORM } from '@mikro-orm/postgresql';
import { getQueueToken } from '@nestjs/bull';
import type { Queue } from 'bull';
import { QueueName } from '../../src/queue/queue-names';
import { SettingsService } from '../../src/settings/settings.service';
import { expectError } from '../support/expectations';
import { ADMIN_PASSWORD, startFreshApp, type TestApp } from '../support/test-app';
import { bearer, loginAdmin, type Session } from '../support/users';

describe('request pipeline', () => {
  let t: TestApp;
  let admin: Session;

  beforeAll(async () => {
    t = await startFreshApp({ CORS_ORIGINS: 'https://ui.example.test' });
    admin = await loginAdmin(t);
  });
  afterAll(() => t?.close());

  it('echoes a well-formed x-request-id, generates one otherwise', async () => {
    const echoed = await t.http().get('/health/live').set('x-request-id', 'abc-123.DEF');
    expect(echoed.headers['x-request-id']).toBe('abc-123.DEF');
    const generated = await t.http().get('/health/live');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await t.http().get('/health/live').set('x-request-id', 'a b<script>');
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const error = await t.http().get('/api/auth/me').set('x-request-id', 'trace-42');
    expect(expectError(error, 401)).toMatchObject({ requestId: 'trace-42' });
  });

  it('unknown routes answer 404 in the envelope', async () => {
    expectError(await t.http().get('/api/nothing-here').set(bearer(admin)), 404);
  });

  it('malformed JSON is a 400, a body over 256 KiB a 413, both in the envelope', async () => {
    const malformed = await t
      .http()
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send('{"username": "admin", ');
    expectError(malformed, 400);
    const big = await t
      .http()
      .post('/api/auth/login')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ username: 'admin', password: 'x'.repeat(300 * 1024) }));
    expectError(big, 413);
  });

  it('an unexpected error answers a generic 500 and logs the full error with the request id', async () => {
    const service = t.app.get(SettingsService);
    const spy = jest
      .spyOn(service, 'get')
      .mockRejectedValueOnce(
        new Error('boom at /srv/proximity/secret-path.ts:12 password=hunter2'),
      );
    try {
      const res = await t
        .http()
        .get('/api/settings')
        .set(bearer(admin))
        .set('x-request-id', 'trace-500');
      const body = expectError(res, 500);
      expect(body.message).toBe('Internal server error');
      expect(JSON.stringify(res.body)).not.toMatch(/boom|secret-path|hunter2/);
      const logged = t.logs.entries().find((e) => e.requestId === 'trace-500' && e.level === 50);
      expect(JSON.stringify(logged)).toContain('secret-path');
    } finally {
      spy.mockRestore();
    }
  });

  it('sets security headers and no x-powered-by', async () => {
    const res = await t.http().get('/health/live');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('allows only configured CORS origins', async () => {
    const allowed = await t
      .http()
      .options('/api/auth/login')
      .set('Origin', 'https://ui.example.test')
      .set('Access-Control-Request-Method', 'POST');
    expect(allowed.headers['access-control-allow-origin']).toBe('https://ui.example.test');
    const denied = await t
      .http()
      .options('/api/auth/login')
      .set('Origin', 'https://evil.example.test')
      .set('Access-Control-Request-Method', 'POST');
    expect(denied.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('probes: live and ready answer 200 with component status only', async () => {
    expect((await t.http().get('/health/live')).body).toEqual({ status: 'ok' });
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body.details).toEqual({ database: { status: 'up' }, redis: { status: 'up' } });
  });

  it('serves Prometheus metrics with request durations by route template and status', async () => {
    await t.http().get(`/api/users/${admin.userId}`).set(bearer(admin)).expect(200);
    const res = await t.http().get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.text).toMatch(
      /http_request_duration_seconds_count\{method="GET",route="\/api\/users\/:id",status="200"\} [1-9]/,
    );
    expect(res.text).toContain('process_resident_memory_bytes');
    expect(res.text).toMatch(/proximity_queue_jobs\{queue="maintenance",state="waiting"\} \d+/);
    expect(res.text).toMatch(/proximity_db_pool_connections\{state="used"\} \d+/);
    expect(res.text).not.toContain(admin.userId);
  });

  it('never logs the secrets that crossed it', () => {
    expect(t.logs.lines.length).toBeGreaterThan(0);
    expect(t.logs.text).not.toContain(ADMIN_PASSWORD);
    expect(t.logs.text).not.toContain(admin.accessToken);
    expect(t.logs.text).not.toContain(admin.refreshToken);
    expect(t.logs.text).not.toContain(t.config.auth.jwtSecret);
  });

  it('a database failure answers a generic 500 without SQL (last: it closes the pool)', async () => {
    await t.app.get(MikroORM).close(true);
    const res = await t.http().get('/api/settings').set(bearer(admin));
    const body = expectError(res, 500);
    expect(body.message).toBe('Internal server error');
    const ready = await t.http().get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.details.database).toEqual({ status: 'down' });
  });
});

describe('probes and metrics with other settings', () => {
  it('/health/ready answers 503 while Redis is unreachable, with component status only', async () => {
    let closeQueue: jest.SpyInstance | undefined;
    const t = await startFreshApp({ REDIS_URL: 'redis://127.0.0.1:1' }, 'noredis');
    try {
      const res = await t.http().get('/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.details).toEqual({ database: { status: 'up' }, redis: { status: 'down' } });
      expect(JSON.stringify(res.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
      expect((await t.http().get('/health/live')).status).toBe(200);
      // Login needs its lockout counters: refused cleanly rather than unthrottled.
      const login = await t
        .http()
        .post('/api/auth/login')
        .send({ username: 'admin', password: ADMIN_PASSWORD });
      expectError(login, 503);
      // Bull rejects closing a queue whose connection never came up: shutdown must still succeed.
      const queue = t.app.get<Queue>(getQueueToken(QueueName.Maintenance));
      const realClose = queue.close.bind(queue);
      // The real close runs first: it disconnects the queue's Redis clients,
      // which otherwise retry 127.0.0.1:1 forever and their reconnect timers
      // keep the Jest worker from exiting.
      closeQueue = jest.spyOn(queue, 'close').mockImplementationOnce(async (doNotWaitJobs) => {
        await realClose(doNotWaitJobs).catch(() => undefined);
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      });
    } finally {
      await t.close();
    }
    // t.close() above resolved although closing the queue failed.
    expect(closeQueue).toHaveBeenCalledTimes(1);
  });

  it('/metrics needs the bearer token when METRICS_TOKEN is set', async () => {
    const token = 'metrics-token-0123456789';
    const t = await startFreshApp({ METRICS_TOKEN: token }, 'metrics');
    try {
      expectError(await t.http().get('/metrics'), 401);
      expectError(
        await t.http().get('/metrics').set('Authorization', 'Bearer wrong-token-000000000'),
        401,
      );
      const ok = await t.http().get('/metrics').set('Authorization', `Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('http_request_duration_seconds');
    } finally {
      await t.close();
    }
  });
});
