import { createHash, timingSafeEqual } from 'node:crypto';

/** OpenSSH's notation: `SHA256:` + unpadded base64 of the SHA-256 of the raw public key blob. */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '')}`;
}

const FINGERPRINT = /^SHA256:[A-Za-z0-9+/]{43}$/;

/**
 * The pinned value as stored, or null when it is not a SHA-256 fingerprint.
 * Trailing `=` padding (some tools print it) is accepted and dropped.
 */
export function normalizeFingerprint(value: string): string | null {
  const trimmed = value.trim().replace(/=+$/, '');
  return FINGERPRINT.test(trimmed) ? trimmed : null;
}

/** Constant-time equality of two fingerprints (the pin is not secret, but there is no reason to leak timing). */
export function sameFingerprint(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
