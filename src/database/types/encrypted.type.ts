import { type MikroORM, type Platform, Type } from '@mikro-orm/core';
import type { Keyring } from '../../crypto/keyring';

const KEYRING_EXTENSION = 'proximity:keyring';

/**
 * Hands the keyring to EncryptedType through the ORM's own configuration, so
 * two ORMs in one process (tests, replicas) each use their own key.
 */
export function keyringExtension(keyring: Keyring): { register(orm: MikroORM): void } {
  return {
    register(orm: MikroORM): void {
      orm.config.registerExtension(KEYRING_EXTENSION, () => keyring);
    },
  };
}

function keyringOf(platform: Platform): Keyring {
  const keyring = platform.getConfig().getExtension<Keyring>(KEYRING_EXTENSION);
  if (!keyring) throw new Error('EncryptedType used without the keyring extension');
  return keyring;
}

/**
 * A text column that is only ever written encrypted (AES-256-GCM). Reading a
 * value that does not decrypt throws; it is never passed through.
 */
export class EncryptedType extends Type<string | null, string | null> {
  override convertToDatabaseValue(value: string | null, platform: Platform): string | null {
    return value === null || value === undefined ? null : keyringOf(platform).encrypt(value);
  }

  override convertToJSValue(value: string | null, platform: Platform): string | null {
    return value === null || value === undefined ? null : keyringOf(platform).decrypt(value);
  }

  // Every encryption differs (random IV): compare plaintexts, or each flush would rewrite the row.
  override ensureComparable(): boolean {
    return false;
  }

  override compareAsType(): string {
    return 'string';
  }

  override getColumnType(): string {
    return 'text';
  }
}
