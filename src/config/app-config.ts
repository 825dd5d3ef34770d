import { resolve } from 'node:path';
import { Keyring } from '../crypto/keyring';
import { Environment, LogLevel, ProcessRole } from './environment';

export interface DatabaseConfig {
  url: string;
  poolMin: number;
  poolMax: number;
  idleTimeoutMs: number;
  statementTimeoutMs: number;
}

export interface RedisConfig {
  url: string;
  prefix: string;
}

export interface AuthConfig {
  jwtSecret: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  loginMaxFailures: number;
  loginWindowSeconds: number;
}

export interface ProxmoxSettings {
  callTimeoutMs: number;
  taskPollMs: number;
}

export interface JobSettings {
  /** Jobs of the deploy queue one worker process runs at once. */
  deployConcurrency: number;
  /** Bull's job lock; a dead worker's jobs run again after it expires and a stalled check. */
  lockMs: number;
  stalledCheckMs: number;
  /** How long an operation may stay queued or running before the reconciler ends it. */
  deployDeadlineMs: number;
  actionDeadlineMs: number;
  backupDeadlineMs: number;
  restoreDeadlineMs: number;
  /** How long an operation without a job must be left unchanged before its job is put back. */
  requeueGraceMs: number;
  /** The shortest time a backup schedule may leave between two runs. */
  scheduleMinIntervalSeconds: number;
}

export interface HttpConfig {
  port: number;
  host: string;
  corsOrigins: string[];
  trustProxyHops: number;
  shutdownTimeoutMs: number;
  /** Absolute directory of the built web UI; it may not exist (the API then says so at `/`). */
  webRoot: string;
}

/** The validated, typed configuration: the only way code reads its settings. */
export class AppConfig {
  constructor(
    readonly nodeEnv: Environment['NODE_ENV'],
    readonly role: ProcessRole,
    readonly http: HttpConfig,
    readonly database: DatabaseConfig,
    readonly redis: RedisConfig,
    readonly auth: AuthConfig,
    readonly keyring: Keyring,
    readonly bootstrapAdmin: { username: string; password: string } | null,
    readonly logLevel: LogLevel,
    readonly metricsToken: string | null,
    /** Absolute path of the catalog directory. */
    readonly catalogDir: string,
    readonly proxmox: ProxmoxSettings,
    readonly jobs: JobSettings,
  ) {}

  get runsApi(): boolean {
    return this.role === 'api' || this.role === 'all';
  }

  get runsWorker(): boolean {
    return this.role === 'worker' || this.role === 'all';
  }

  static fromEnvironment(env: Environment): AppConfig {
    return new AppConfig(
      env.NODE_ENV,
      env.PROXIMITY_ROLE,
      {
        port: env.PORT,
        host: env.HOST,
        corsOrigins: env.CORS_ORIGINS.split(',').filter((o) => o.length > 0),
        trustProxyHops: env.TRUST_PROXY_HOPS,
        shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
        webRoot: resolve(env.WEB_ROOT),
      },
      {
        url: env.DATABASE_URL,
        poolMin: env.DATABASE_POOL_MIN,
        poolMax: env.DATABASE_POOL_MAX,
        idleTimeoutMs: env.DATABASE_IDLE_TIMEOUT_MS,
        statementTimeoutMs: env.DATABASE_STATEMENT_TIMEOUT_MS,
      },
      { url: env.REDIS_URL, prefix: env.REDIS_PREFIX },
      {
        jwtSecret: env.JWT_SECRET,
        accessTtlSeconds: env.JWT_ACCESS_TTL_SECONDS,
        refreshTtlSeconds: env.JWT_REFRESH_TTL_SECONDS,
        loginMaxFailures: env.LOGIN_MAX_FAILURES,
        loginWindowSeconds: env.LOGIN_LOCKOUT_WINDOW_SECONDS,
      },
      new Keyring(
        Buffer.from(env.PROXIMITY_ENCRYPTION_KEY, 'base64'),
        (env.PROXIMITY_ENCRYPTION_KEYS_OLD ?? '')
          .split(',')
          .filter((k) => k.length > 0)
          .map((k) => Buffer.from(k, 'base64')),
      ),
      env.PROXIMITY_ADMIN_USERNAME && env.PROXIMITY_ADMIN_PASSWORD
        ? { username: env.PROXIMITY_ADMIN_USERNAME, password: env.PROXIMITY_ADMIN_PASSWORD }
        : null,
      env.LOG_LEVEL,
      env.METRICS_TOKEN ?? null,
      resolve(env.CATALOG_DIR),
      { callTimeoutMs: env.PROXMOX_CALL_TIMEOUT_MS, taskPollMs: env.PROXMOX_TASK_POLL_MS },
      {
        deployConcurrency: env.DEPLOY_CONCURRENCY,
        lockMs: env.JOB_LOCK_MS,
        stalledCheckMs: env.JOB_STALLED_CHECK_MS,
        deployDeadlineMs: env.DEPLOY_DEADLINE_SECONDS * 1000,
        actionDeadlineMs: env.ACTION_DEADLINE_SECONDS * 1000,
        backupDeadlineMs: env.BACKUP_DEADLINE_SECONDS * 1000,
        restoreDeadlineMs: env.RESTORE_DEADLINE_SECONDS * 1000,
        requeueGraceMs: env.OPERATION_REQUEUE_GRACE_SECONDS * 1000,
        scheduleMinIntervalSeconds: env.BACKUP_SCHEDULE_MIN_INTERVAL_SECONDS,
      },
    );
  }
}
