import { randomBytes } from 'node:crypto';
import { ConfigError, parseEnvironment } from './environment';
import { loadConfig } from './load-config';

const REQUIRED = {
  JWT_SECRET: 'j'.repeat(40),
  PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    parseEnvironment(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(REQUIRED);
    expect(config.database.url).toBe('postgres://postgres@127.0.0.1:5432/proximity');
    expect(config.redis.url).toBe('redis://127.0.0.1:6379');
    expect(config.role).toBe('all');
    expect(config.http.port).toBe(3000);
    expect(config.http.corsOrigins).toEqual([]);
    expect(config.keyring.currentKeyId).toMatch(/^[0-9a-f]{12}$/);
    expect(config.bootstrapAdmin).toBeNull();
    expect(config.runsApi && config.runsWorker).toBe(true);
  });

  it('names every missing secret', () => {
    expect(problemsOf({})).toEqual([
      'JWT_SECRET is required',
      'PROXIMITY_ENCRYPTION_KEY is required',
    ]);
  });

  it.each([
    ['JWT_SECRET', 'short', 'JWT_SECRET must be at least 32 characters'],
    [
      'PROXIMITY_ENCRYPTION_KEY',
      randomBytes(16).toString('base64'),
      'PROXIMITY_ENCRYPTION_KEY must be 32 bytes, base64-encoded',
    ],
    ['PROXIMITY_ROLE', 'scheduler', 'PROXIMITY_ROLE'],
    ['PORT', '70000', 'PORT must not be greater than 65535'],
    ['PORT', '80a', 'PORT'],
    ['DATABASE_URL', 'mysql://x', 'DATABASE_URL must be a postgres:// URL'],
    ['REDIS_URL', 'http://x', 'REDIS_URL must be a redis:// URL'],
    [
      'CORS_ORIGINS',
      'ui.example.com',
      'CORS_ORIGINS must be a comma-separated list of http(s) origins',
    ],
    ['LOG_LEVEL', 'verbose', 'LOG_LEVEL'],
    ['METRICS_TOKEN', 'short', 'METRICS_TOKEN must be at least 16 characters'],
  ])('rejects %s=%s', (key, value, expected) => {
    const problems = problemsOf({ ...REQUIRED, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
    expect(problems[0]).not.toContain(value.length > 3 ? value : '\u0000');
  });

  it('needs the bootstrap admin username and password together, with a 12-character password', () => {
    expect(problemsOf({ ...REQUIRED, PROXIMITY_ADMIN_USERNAME: 'root' })).toEqual([
      'PROXIMITY_ADMIN_USERNAME and PROXIMITY_ADMIN_PASSWORD must be given together',
    ]);
    expect(
      problemsOf({
        ...REQUIRED,
        PROXIMITY_ADMIN_USERNAME: 'root',
        PROXIMITY_ADMIN_PASSWORD: 'short',
      })[0],
    ).toContain('PROXIMITY_ADMIN_PASSWORD must be at least 12 characters');
    expect(
      loadConfig({
        ...REQUIRED,
        PROXIMITY_ADMIN_USERNAME: 'root',
        PROXIMITY_ADMIN_PASSWORD: 'long-enough-pw',
      }).bootstrapAdmin,
    ).toEqual({ username: 'root', password: 'long-enough-pw' });
  });

  it('rejects a pool whose minimum exceeds its maximum', () => {
    expect(problemsOf({ ...REQUIRED, DATABASE_POOL_MIN: '20', DATABASE_POOL_MAX: '5' })).toEqual([
      'DATABASE_POOL_MIN must not exceed DATABASE_POOL_MAX',
    ]);
  });

  it('parses lists and numbers', () => {
    const config = loadConfig({
      ...REQUIRED,
      CORS_ORIGINS: 'https://a.test,http://b.test:8080',
      PORT: '8080',
      PROXIMITY_ROLE: 'worker',
    });
    expect(config.http.corsOrigins).toEqual(['https://a.test', 'http://b.test:8080']);
    expect(config.http.port).toBe(8080);
    expect(config.runsApi).toBe(false);
    expect(config.runsWorker).toBe(true);
  });
});
