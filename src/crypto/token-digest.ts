import { createHash } from 'node:crypto';

/**
 * How high-entropy random tokens (refresh and API tokens) are stored: a
 * SHA-256 digest. A slow password hash would only slow down every request.
 */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
