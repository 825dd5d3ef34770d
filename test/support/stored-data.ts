import Redis from 'ioredis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { TEST_REDIS_URL } from './redis-keys';

const run = promisify(execFile);

/** The whole database as `pg_dump` writes it: schema and data, plain SQL. */
export async function databaseDump(url: string): Promise<string> {
  const { stdout } = await run('pg_dump', ['--format=plain', '--no-owner', '--dbname', url], {
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

async function valueOf(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return JSON.stringify(await redis.lrange(key, 0, -1));
    case 'set':
      return JSON.stringify(await redis.smembers(key));
    case 'zset':
      return JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES'));
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}

/** Every key under `prefix` with its whole value (job hashes, lists, counters) as text. */
export async function redisValues(prefix: string): Promise<{ key: string; value: string }[]> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const keys = new Set<string>();
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      for (const key of found) keys.add(key);
      cursor = next;
    } while (cursor !== '0');
    const values: { key: string; value: string }[] = [];
    for (const key of [...keys].sort()) values.push({ key, value: await valueOf(redis, key) });
    return values;
  } finally {
    redis.disconnect();
  }
}
