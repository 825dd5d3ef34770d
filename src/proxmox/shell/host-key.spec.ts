import { createHash } from 'node:crypto';
import { utils } from 'ssh2';
import { normalizeFingerprint, sameFingerprint, sshFingerprint } from './host-key';

describe('SSH host key fingerprints', () => {
  it("computes OpenSSH's SHA256 notation of a raw public key", () => {
    const pair = utils.generateKeyPairSync('ed25519');
    const parsed = utils.parseKey(pair.public);
    if (parsed instanceof Error) throw parsed;
    const blob = parsed.getPublicSSH();
    const fingerprint = sshFingerprint(blob);
    expect(fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint).toBe(
      `SHA256:${createHash('sha256').update(blob).digest('base64').slice(0, 43)}`,
    );
  });

  it('normalizes a pin, accepting padding and refusing anything else', () => {
    const pin = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
    expect(normalizeFingerprint(pin)).toBe(pin);
    expect(normalizeFingerprint(` ${pin}= `)).toBe(pin);
    for (const bad of ['', 'SHA256:', 'MD5:aa:bb', pin.slice(0, -1), `sha256:${pin.slice(7)}`]) {
      expect(normalizeFingerprint(bad)).toBeNull();
    }
  });

  it('compares fingerprints exactly', () => {
    expect(sameFingerprint('SHA256:abc', 'SHA256:abc')).toBe(true);
    expect(sameFingerprint('SHA256:abc', 'SHA256:abd')).toBe(false);
    expect(sameFingerprint('SHA256:abc', 'SHA256:abcd')).toBe(false);
  });
});
