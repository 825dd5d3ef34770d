import { claimAddressBlock } from './network/address-block';

describe('address blocks of simulators side by side', () => {
  it('gives each running simulator its own /24 while one is free, and frees it on release', async () => {
    // Simulators of other test runs on this machine may hold some blocks: claim what is left.
    const claims = [];
    for (let i = 0; i < 256; i++) claims.push(await claimAddressBlock());
    const exclusive = claims.filter((c) => c.exclusive);
    expect(exclusive.length).toBeGreaterThan(200);
    expect(new Set(exclusive.map((c) => c.block)).size).toBe(exclusive.length);
    // Every block is taken now; the one given back is the one handed out next.
    await exclusive[17].release();
    const again = await claimAddressBlock();
    expect(again).toMatchObject({ block: exclusive[17].block, exclusive: true });
    await Promise.all(
      [...claims.filter((c) => c !== exclusive[17]), again].map((c) => c.release()),
    );
  });
});
