import { applicationUrl } from './application-url';

describe('applicationUrl', () => {
  it('names the node address and the public port', () => {
    expect(applicationUrl('pve.lan', 30000)).toBe('http://pve.lan:30000');
    expect(applicationUrl('192.0.2.10', 30001)).toBe('http://192.0.2.10:30001');
  });

  it('brackets an IPv6 address', () => {
    expect(applicationUrl('2001:db8::1', 30002)).toBe('http://[2001:db8::1]:30002');
  });
});
