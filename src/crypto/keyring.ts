import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const VERSION = 'pxe1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretDecryptionError extends Error {
  constructor(reason: string) {
    super(`A stored secret could not be decrypted: ${reason}`);
    this.name = 'SecretDecryptionError';
  }
}

declare const sealedBrand: unique symbol;

/**
 * A ciphertext made by a Keyring. The brand keeps a plaintext string from
 * being stored where a sealed one belongs: it does not compile.
 */
export type Sealed = string & { readonly [sealedBrand]: true };

const SEALED_SHAPE = new RegExp(
  `^${VERSION}\\.[0-9a-f]{12}\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*\\.[A-Za-z0-9_-]+$`,
);

/** Whether a value has the shape of a ciphertext; says nothing about whether it opens. */
export function looksSealed(value: string): value is Sealed {
  return SEALED_SHAPE.test(value);
}

/** The short, public id of a key: lets a ciphertext name the key that sealed it. */
export function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/**
 * AES-256-GCM with the current key; older keys only decrypt, so a key can be
 * rotated while every row still opens. Ciphertext format:
 * `pxe1.<keyId>.<iv>.<ciphertext>.<tag>` (base64url parts).
 */
export class Keyring {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(
    private readonly current: Buffer,
    previous: Buffer[] = [],
  ) {
    for (const key of [current, ...previous]) {
      if (key.length !== 32) throw new Error('encryption keys must be 32 bytes');
      this.keys.set(keyIdOf(key), key);
    }
    this.currentKeyId = keyIdOf(current);
  }

  encrypt(plaintext: string): Sealed {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current, iv);
    cipher.setAAD(Buffer.from(`${VERSION}.${this.currentKeyId}`));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.currentKeyId, iv, body, cipher.getAuthTag()]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.') as Sealed;
  }

  /** Throws SecretDecryptionError for anything but an intact ciphertext under a known key. */
  decrypt(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== VERSION) {
      throw new SecretDecryptionError('not a Proximity ciphertext');
    }
    const [version, keyId, iv, body, tag] = parts;
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptionError(`sealed with an unknown key (${keyId})`);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${version}.${keyId}`));
      const authTag = Buffer.from(tag, 'base64url');
      if (authTag.length !== TAG_BYTES) throw new Error('bad tag length');
      decipher.setAuthTag(authTag);
      return Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretDecryptionError('integrity check failed');
    }
  }

  knowsKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  isCurrent(sealed: string): boolean {
    return sealed.startsWith(`${VERSION}.${this.currentKeyId}.`);
  }
}
