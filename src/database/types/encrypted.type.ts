import { Type } from '@mikro-orm/core';
import { looksSealed, type Sealed } from '../../crypto/keyring';

/**
 * A text column that holds only ciphertexts (AES-256-GCM, see Keyring). The
 * entity carries the ciphertext as is and nothing is decrypted on load: a
 * value that no longer opens cannot break reading, listing, changing or
 * deleting its row, only the call that needs the secret. Writing anything
 * that is not a ciphertext fails, so a plaintext never reaches the table.
 */
export class EncryptedType extends Type<Sealed | null, string | null> {
  override convertToDatabaseValue(value: Sealed | null): string | null {
    if (value === null || value === undefined) return null;
    if (!looksSealed(value)) throw new Error('refusing to store an unsealed value as a secret');
    return value;
  }

  // Loaded values are compared as loaded: converting them back would run the
  // write check on a damaged ciphertext and make its row unreadable.
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
