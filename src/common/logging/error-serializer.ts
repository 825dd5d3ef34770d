import { stdSerializers } from 'pino';

interface DriverError extends Error {
  code?: string;
  sqlState?: string;
}

/**
 * Database errors carry the whole statement with its bound values in their
 * message; the log keeps the database's own reason and the stack, not the values.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const serialized = stdSerializers.err(err) as unknown as Record<string, unknown>;
  const driverError = err as DriverError;
  if (typeof driverError.sqlState === 'string') {
    const reason = err.message.split('\n - ')[0].split(' - ').slice(1).join(' - ');
    const message = reason || 'database error';
    serialized.message = message;
    serialized.stack = `${err.name}: ${message}\n${(err.stack ?? '')
      .split('\n    at ')
      .slice(1)
      .map((l) => `    at ${l}`)
      .join('\n')}`;
    delete serialized.detail;
    delete serialized.where;
  }
  return serialized;
}
