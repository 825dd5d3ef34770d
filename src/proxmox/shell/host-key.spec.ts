import { utils } from 'ssh2';
import { normalizeFingerprint, sameFingerprint, sshFingerprint } from './host-key';

/**
 * Public keys made once with ssh-keygen, and what `ssh-keygen -lf` printed for
 * them: the fingerprint is checked against OpenSSH, not against a copy of our
 * own formula; both contain `+` and `/`, so another base64 alphabet shows.
 * (Public halves only; the private keys were thrown away.)
 */
const KNOWN_KEYS = [
  {
    line: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPXvKo6q6t3HvCV/kStLpsNeunDyftaOxB5kyvNFql7P proximity-fixture',
    sshKeygen: 'SHA256:6GLVxHaB2jzLpNWflkgYD6b1U6q+XztkofMyVfoGr/g',
  },
  {
    line: 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDuifimSGyOBa4I6zprZ4HPF09QpzXidI9nr1roP8PVzMeTaVdOL93m0wbq/A7KG/PfzU+TnNFZPMoDJyPOGoRQqb3YjHaTDBiFbi+DDKhPTahOY+8pf0bnfRPzRnmGTmnqLDXSZ5jQL83+8kaEo5dhXSOvDenM5rOIi5WkhD54q6AZrCbAUS/powtrG4yETmdOGk+kPo1U7Jy3zS+2oesuKwxT816j+LpEbojMGRSusaI7KpDVDDfqSiofbYmDLCOUuE2Rj3aj1Qzhir9Ut6KoMgcdSV1qtozn6e1muHQl5WzOykjncPpJw+pF15ylOp020AN8lKO+iVeAvnlKWW1j proximity-fixture-rsa',
    sshKeygen: 'SHA256:ZJRgNZn/j+ESovMcYqgz/CDXbYtpgAa0ssKKxmj4PnM',
  },
];

describe('SSH host key fingerprints', () => {
  it.each(KNOWN_KEYS)('matches ssh-keygen -lf for $sshKeygen', ({ line, sshKeygen }) => {
    // The blob as ssh2 hands it to the host verifier during a handshake.
    const parsed = utils.parseKey(line);
    if (parsed instanceof Error) throw parsed;
    expect(sshFingerprint(parsed.getPublicSSH())).toBe(sshKeygen);
    expect(normalizeFingerprint(sshKeygen)).toBe(sshKeygen);
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
