import 'reflect-metadata';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import { createApp } from '../../src/app.factory';
import type { AppConfig } from '../../src/config/app-config';
import { loadConfig } from '../../src/config/load-config';
import { databaseUrl, recreateFromTemplate, testRunId, workerDatabase } from './databases';
import { LogCapture } from './log-capture';
import { deleteRedisKeys, TEST_REDIS_URL } from './redis-keys';

export const ADMIN_USERNAME = 'admin';
export const ADMIN_PASSWORD = 'admin-password-0123';

export interface TestApp {
  app: NestExpressApplication;
  config: AppConfig;
  /** The environment it started with, to start a replica of it. */
  env: NodeJS.ProcessEnv;
  logs: LogCapture;
  http: () => TestAgent;
  close: () => Promise<void>;
}

/** The secrets of one test run: random, so no test can depend on a fixed value. */
export function testEnvironment(
  overrides: Record<string, string> = {},
  variant = '',
): NodeJS.ProcessEnv {
  const worker = process.env.JEST_WORKER_ID ?? '1';
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl(workerDatabase(variant)),
    DATABASE_POOL_MIN: '0',
    DATABASE_POOL_MAX: '5',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: `proximity-test-${testRunId()}-w${worker}${variant}`,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PROXIMITY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    PROXIMITY_ADMIN_USERNAME: ADMIN_USERNAME,
    PROXIMITY_ADMIN_PASSWORD: ADMIN_PASSWORD,
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

/** Empties this worker's database (fresh copy of the migrated template) and its Redis keys. */
export async function resetState(env: NodeJS.ProcessEnv, variant = ''): Promise<void> {
  await recreateFromTemplate(workerDatabase(variant));
  await deleteRedisKeys(`${env.REDIS_PREFIX}:*`);
}

/** Boots the real application (real PostgreSQL and Redis) with captured logs. */
export async function startApp(env: NodeJS.ProcessEnv): Promise<TestApp> {
  const config = loadConfig(env);
  const logs = new LogCapture();
  const app = await createApp(config, { logDestination: logs });
  const server = app.getHttpServer();
  return {
    app,
    config,
    env,
    logs,
    http: () => request(server),
    close: () => app.close(),
  };
}

/** The usual start of a test file: clean state, one app, admin bootstrapped. */
export async function startFreshApp(
  overrides: Record<string, string> = {},
  variant = '',
): Promise<TestApp> {
  const env = testEnvironment(overrides, variant);
  await resetState(env, variant);
  return startApp(env);
}
