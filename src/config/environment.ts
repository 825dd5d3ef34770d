import { plainToInstance, Transform } from 'class-transformer';
import {
  getMetadataStorage,
  IsBase64,
  IsEnum,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
} from 'class-validator';

export const ROLES = ['api', 'worker', 'all'] as const;
export type ProcessRole = (typeof ROLES)[number];

export enum LogLevel {
  fatal = 'fatal',
  error = 'error',
  warn = 'warn',
  info = 'info',
  debug = 'debug',
  trace = 'trace',
  silent = 'silent',
}

const toInt = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;

/**
 * Every variable the process reads. Nothing else in the code base touches
 * process.env: a typo or a missing secret must stop the process at start,
 * not at the first request that needs it.
 */
export class Environment {
  @IsOptional()
  @IsIn(['production', 'development', 'test'])
  NODE_ENV: 'production' | 'development' | 'test' = 'production';

  @IsString()
  @Matches(/^postgres(ql)?:\/\//, { message: 'must be a postgres:// URL' })
  DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/proximity';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(100)
  DATABASE_POOL_MIN = 1;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(200)
  DATABASE_POOL_MAX = 10;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  DATABASE_IDLE_TIMEOUT_MS = 30_000;

  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  DATABASE_STATEMENT_TIMEOUT_MS = 15_000;

  @IsString()
  @Matches(/^rediss?:\/\//, { message: 'must be a redis:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Lets several deployments (and parallel test workers) share one Redis. */
  @IsString()
  @Matches(/^[a-zA-Z0-9:_-]{1,40}$/, { message: 'must be 1..40 characters of a-z, 0-9, :, _ or -' })
  REDIS_PREFIX = 'proximity';

  @IsString({ message: 'is required' })
  @MinLength(32, { message: 'must be at least 32 characters' })
  JWT_SECRET!: string;

  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86_400)
  JWT_ACCESS_TTL_SECONDS = 900;

  @Transform(toInt)
  @IsInt()
  @Min(3600)
  @Max(90 * 86_400)
  JWT_REFRESH_TTL_SECONDS = 14 * 86_400;

  @IsString({ message: 'is required' })
  @IsBase64({}, { message: 'must be 32 bytes, base64-encoded' })
  @Matches(/^[A-Za-z0-9+/]{43}=$/, { message: 'must be 32 bytes, base64-encoded' })
  PROXIMITY_ENCRYPTION_KEY!: string;

  /** Comma-separated previous keys: still decrypt, never encrypt (key rotation). */
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=(,[A-Za-z0-9+/]{43}=)*$/, {
    message: 'must be a comma-separated list of 32-byte base64 keys',
  })
  PROXIMITY_ENCRYPTION_KEYS_OLD?: string;

  @IsIn(ROLES)
  PROXIMITY_ROLE: ProcessRole = 'all';

  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(65_535)
  PORT = 3000;

  @IsString()
  HOST = '0.0.0.0';

  /** Comma-separated list of exact origins; empty disables CORS. */
  @IsString()
  @Matches(/^(|https?:\/\/[^\s,]+(,https?:\/\/[^\s,]+)*)$/, {
    message: 'must be a comma-separated list of http(s) origins',
  })
  CORS_ORIGINS = '';

  /** The built web UI (`npm run web:build`); relative paths start at the working directory. */
  @IsString()
  WEB_ROOT = 'web/dist';

  @IsOptional()
  @Matches(/^[a-zA-Z0-9._-]{3,64}$/, {
    message: 'must be 3..64 characters of letters, digits, ".", "_" or "-"',
  })
  PROXIMITY_ADMIN_USERNAME?: string;

  @IsOptional()
  @IsString()
  @MinLength(12, { message: 'must be at least 12 characters' })
  @MaxLength(256)
  PROXIMITY_ADMIN_PASSWORD?: string;

  @IsEnum(LogLevel)
  LOG_LEVEL: LogLevel = LogLevel.info;

  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  METRICS_TOKEN?: string;

  /** Number of reverse-proxy hops whose X-Forwarded-For is trusted (0: none). */
  @Transform(toInt)
  @IsInt()
  @Min(0)
  @Max(10)
  TRUST_PROXY_HOPS = 0;

  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 25_000;

  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(100)
  LOGIN_MAX_FAILURES = 5;

  /** Budget of one Proxmox API call, connect included. */
  @Transform(toInt)
  @IsInt()
  @Min(100)
  @Max(300_000)
  PROXMOX_CALL_TIMEOUT_MS = 15_000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(60_000)
  PROXMOX_TASK_POLL_MS = 1000;

  @Transform(toInt)
  @IsInt()
  @Min(10)
  @Max(86_400)
  LOGIN_LOCKOUT_WINDOW_SECONDS = 900;

  /** Deploy jobs one worker process runs at once (each mostly waits on Proxmox). */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(64)
  DEPLOY_CONCURRENCY = 8;

  /**
   * How long a job's lock lives without renewal (renewed every half of it).
   * A worker that dies leaves its jobs locked this long; then another
   * worker's stalled check runs them again.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1000)
  @Max(600_000)
  JOB_LOCK_MS = 30_000;

  /** How often workers look for jobs whose lock expired (their worker died). */
  @Transform(toInt)
  @IsInt()
  @Min(500)
  @Max(600_000)
  JOB_STALLED_CHECK_MS = 30_000;

  /** A deployment still queued or running this long after its request is ended by the reconciler. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86_400)
  DEPLOY_DEADLINE_SECONDS = 3600;

  /** The same for start, stop, restart and delete. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86_400)
  ACTION_DEADLINE_SECONDS = 900;

  /** The same for a backup: long enough to wait for the node's vzdump lock (180 minutes) and run. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(172_800)
  BACKUP_DEADLINE_SECONDS = 14_400;

  /** The same for a restore. */
  @Transform(toInt)
  @IsInt()
  @Min(60)
  @Max(86_400)
  RESTORE_DEADLINE_SECONDS = 3600;

  /**
   * An operation still queued or running whose row has not changed for this
   * long, and whose queue holds no job for it (Redis restarted without its
   * data), has its job put back. Well past the request's enqueue, which gives
   * up after 5 s, and past most single steps: a worker still inside a step whose
   * job was lost under it (a Docker install, a wait for the node's vzdump lock)
   * changes no row meanwhile, and would otherwise run beside the new job.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(3600)
  OPERATION_REQUEUE_GRACE_SECONDS = 300;

  /**
   * The shortest time between two runs of a backup schedule: a schedule that
   * would run more often is refused, so it cannot keep a node's one vzdump
   * slot busy.
   */
  @Transform(toInt)
  @IsInt()
  @Min(1)
  @Max(86_400)
  BACKUP_SCHEDULE_MIN_INTERVAL_SECONDS = 60;

  /** The catalog's YAML files; a relative path resolves against the working directory. */
  @IsString()
  @MinLength(1)
  CATALOG_DIR = 'catalog';
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the environment; throws one ConfigError naming every bad variable. */
export function parseEnvironment(source: NodeJS.ProcessEnv): Environment {
  const known = new Set(
    getMetadataStorage()
      .getTargetValidationMetadatas(Environment, '', true, false)
      .map((m) => m.propertyName),
  );
  const relevant: Record<string, string> = {};
  for (const key of known) {
    const value = source[key];
    if (value !== undefined && value !== '') relevant[key] = value;
  }
  const env = plainToInstance(Environment, relevant, { exposeDefaultValues: true });
  const errors = validateSync(env, { forbidUnknownValues: true });
  if (errors.length > 0) {
    const problems = errors.map((e) => {
      if (relevant[e.property] === undefined) return `${e.property} is required`;
      const message = Object.values(e.constraints ?? {})[0] ?? 'is invalid';
      // The value itself is never echoed: it may be a secret.
      return `${e.property} ${message.replace(new RegExp(`^${e.property} `), '')}`;
    });
    throw new ConfigError(problems);
  }
  if (env.DATABASE_POOL_MIN > env.DATABASE_POOL_MAX) {
    throw new ConfigError(['DATABASE_POOL_MIN must not exceed DATABASE_POOL_MAX']);
  }
  if (
    (env.PROXIMITY_ADMIN_USERNAME === undefined) !==
    (env.PROXIMITY_ADMIN_PASSWORD === undefined)
  ) {
    throw new ConfigError([
      'PROXIMITY_ADMIN_USERNAME and PROXIMITY_ADMIN_PASSWORD must be given together',
    ]);
  }
  return env;
}
