import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { CatalogApp, GenerateKind } from './catalog-app';

export const PASSWORD_LENGTH = 24;
const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * One fresh value for a `generate` variable.
 * - password: 24 letters and digits (~143 bits). Alphanumeric on purpose:
 *   the value ends up in database URLs, command lines and config files of
 *   many different apps, and none of them needs escaping for it.
 * - hex32: 32 random bytes as 64 hex digits (`openssl rand -hex 32`).
 * - uuid: a random (v4) UUID.
 */
export function generateSecret(kind: GenerateKind): string {
  switch (kind) {
    case 'password':
      return Array.from(
        { length: PASSWORD_LENGTH },
        () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)],
      ).join('');
    case 'hex32':
      return randomBytes(32).toString('hex');
    case 'uuid':
      return randomUUID();
  }
}

/** Values for every `generate` variable of an app: done once per deployment, then stored encrypted. */
export function generateSecrets(app: CatalogApp): Record<string, string> {
  const values: Record<string, string> = {};
  for (const variable of app.env) {
    if (variable.generate) values[variable.name] = generateSecret(variable.generate);
  }
  return values;
}
