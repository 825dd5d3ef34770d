import { CappedOutput } from './capped-output';

describe('CappedOutput', () => {
  it('keeps everything under the limit', () => {
    const out = new CappedOutput(10);
    out.push(Buffer.from('hello'));
    out.push(Buffer.from('world'));
    expect(out.text()).toBe('helloworld');
    expect(out.truncated).toBe(false);
  });

  it('cuts at the limit, drops the rest and says so', () => {
    const out = new CappedOutput(4);
    out.push(Buffer.from('abc'));
    out.push(Buffer.from('def'));
    out.push(Buffer.from('ghi'));
    expect(out.text()).toBe('abcd');
    expect(out.truncated).toBe(true);
  });

  it('keeps nothing with a zero limit', () => {
    const out = new CappedOutput(0);
    out.push(Buffer.from('x'));
    expect(out.text()).toBe('');
    expect(out.truncated).toBe(true);
  });
});
