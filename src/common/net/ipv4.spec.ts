import { isHostInNetwork, parseIpv4Cidr } from './ipv4';

describe('IPv4 networks', () => {
  it.each(['10.0.0.0/24', '192.168.1.0/28', '10.0.0.7/32', '0.0.0.0/1'])('accepts %s', (cidr) => {
    expect(parseIpv4Cidr(cidr)).not.toBeNull();
  });

  it.each([
    '10.0.0.1/24',
    '10.0.0.0/0',
    '10.0.0.0/33',
    '10.0.0/24',
    '::1/64',
    '10.0.0.0',
    '10.0.0.256/24',
    ' 10.0.0.0/24',
  ])('rejects %s', (cidr) => expect(parseIpv4Cidr(cidr)).toBeNull());

  it('knows usable hosts of a network', () => {
    const net = parseIpv4Cidr('10.0.0.0/24')!;
    expect(isHostInNetwork('10.0.0.1', net)).toBe(true);
    expect(isHostInNetwork('10.0.0.254', net)).toBe(true);
    expect(isHostInNetwork('10.0.0.0', net)).toBe(false);
    expect(isHostInNetwork('10.0.0.255', net)).toBe(false);
    expect(isHostInNetwork('10.0.1.1', net)).toBe(false);
    expect(isHostInNetwork('not-an-ip', net)).toBe(false);
    const pointToPoint = parseIpv4Cidr('10.0.0.0/31')!;
    expect(isHostInNetwork('10.0.0.1', pointToPoint)).toBe(true);
  });
});
