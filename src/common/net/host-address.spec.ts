import { isHostAddress } from './host-address';

describe('isHostAddress', () => {
  it.each([
    'pve',
    'pve.lan',
    'PVE-1.example.com',
    'xn--bcher-kva.example',
    '1pve.example',
    `${'a'.repeat(63)}.example`,
    `${'a.'.repeat(125)}ab`,
    '192.168.1.10',
    '0.0.0.0',
    '::1',
    '2001:db8::1',
    '::ffff:192.0.2.1',
  ])('accepts %s', (value) => expect(isHostAddress(value)).toBe(true));

  it.each([
    '',
    '999.999.999.999',
    '1.2.3.4.5',
    '1.2.3',
    '01.2.3.4',
    '256.1.1.1',
    '::::',
    '1::2::3',
    '[::1',
    '[::1]',
    'fe80::1%eth0',
    'https://pve.lan',
    'pve.lan:8006',
    'pve.lan/api',
    'pve.lan.',
    '.pve.lan',
    'a..b',
    '-pve.lan',
    'pve-.lan',
    'pve_1.lan',
    ' pve.lan',
    'pve lan',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(126)}ab`,
  ])('refuses %j', (value) => expect(isHostAddress(value)).toBe(false));
});
