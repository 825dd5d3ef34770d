import { claimAddressBlock } from './network/address-block';

describe('address blocks of simulators side by side', () => {
  it('gives each running simulator its own /24 until all 256 are taken, and frees them on release', async () => {
    const claims = [];
    for (let i = 0; i < 256; i++) claims.push(await claimAddressBlock());
    expect(new Set(claims.map((c) => c.block)).size).toBe(256);
    await claims[17].release();
    const again = await claimAddressBlock();
    expect(again.block).toBe(claims[17].block);
    await Promise.all([...claims.filter((_, i) => i !== 17), again].map((c) => c.release()));
  });
});
