import { isHostAddress } from './host-address';
import { INVALID_HOST_ADDRESSES, VALID_HOST_ADDRESSES } from './testing/host-address-cases';

describe('isHostAddress', () => {
  it.each(VALID_HOST_ADDRESSES)('accepts %s', (value) => expect(isHostAddress(value)).toBe(true));

  it.each(INVALID_HOST_ADDRESSES)('refuses %j', (value) =>
    expect(isHostAddress(value)).toBe(false),
  );
});
