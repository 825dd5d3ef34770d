import { randomBytes } from 'node:crypto';
import { Keyring, SecretDecryptionError } from './keyring';

describe('Keyring', () => {
  const key = randomBytes(32);

  it('round-trips any text and never repeats a ciphertext', () => {
    const ring = new Keyring(key);
    for (const text of ['', 'hunter2', 'ünïcode ✓', 'x'.repeat(10_000)]) {
      const a = ring.encrypt(text);
      expect(ring.decrypt(a)).toBe(text);
      expect(ring.encrypt(text)).not.toBe(a);
      if (text) expect(a).not.toContain(text);
    }
  });

  it('refuses a tampered ciphertext, a foreign key and plain text', () => {
    const ring = new Keyring(key);
    const sealed = ring.encrypt('secret');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[3], 'base64url');
    flipped[0] ^= 1;
    const tampered = [...parts.slice(0, 3), flipped.toString('base64url'), parts[4]].join('.');
    expect(() => ring.decrypt(tampered)).toThrow(SecretDecryptionError);
    expect(() => new Keyring(randomBytes(32)).decrypt(sealed)).toThrow(/unknown key/);
    expect(() => ring.decrypt('secret')).toThrow(SecretDecryptionError);
    expect(() => ring.decrypt(sealed.replace(/\.[^.]+$/, '.AAAA'))).toThrow(SecretDecryptionError);
  });

  it('decrypts with a previous key and encrypts with the current one', () => {
    const oldRing = new Keyring(key);
    const sealed = oldRing.encrypt('rotate me');
    const newKey = randomBytes(32);
    const ring = new Keyring(newKey, [key]);
    expect(ring.decrypt(sealed)).toBe('rotate me');
    expect(ring.isCurrent(sealed)).toBe(false);
    const resealed = ring.encrypt('rotate me');
    expect(ring.isCurrent(resealed)).toBe(true);
    expect(() => oldRing.decrypt(resealed)).toThrow(/unknown key/);
  });
});
