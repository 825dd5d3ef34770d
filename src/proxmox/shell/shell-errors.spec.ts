import { NodeShellError, NodeShellErrorKind, SCRUBBED, scrubSecrets } from './shell-errors';

describe('scrubSecrets', () => {
  it('replaces every occurrence of every secret', () => {
    expect(scrubSecrets('pw=hunter2 again hunter2, token abc', ['hunter2', 'abc'])).toBe(
      `pw=${SCRUBBED} again ${SCRUBBED}, token ${SCRUBBED}`,
    );
  });

  it('replaces longer secrets first so no part of one is left', () => {
    expect(scrubSecrets('key=abcdef', ['abc', 'abcdef'])).toBe(`key=${SCRUBBED}`);
  });

  it('ignores empty secrets and treats regex characters literally', () => {
    expect(scrubSecrets('a.b*c', ['', '.b*'])).toBe(`a${SCRUBBED}c`);
  });
});

describe('NodeShellError', () => {
  it('keeps the cause apart from its own message and knows which kinds are transient', () => {
    const cause = new Error('raw ssh2 text');
    const error = new NodeShellError(NodeShellErrorKind.ConnectionLost, 'lost', {}, cause);
    expect(error.message).toBe('lost');
    expect(error.cause).toBe(cause);
    expect(error.transient).toBe(true);
    expect(new NodeShellError(NodeShellErrorKind.HostKeyMismatch, 'no').transient).toBe(false);
  });
});
