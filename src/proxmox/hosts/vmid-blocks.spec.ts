import { firstFreeVmidBlock } from './vmid-blocks';

describe('firstFreeVmidBlock', () => {
  const block = (vmidMin: number) => ({ vmidMin, vmidMax: vmidMin + 9_999 });

  it('starts at 10000 and takes the next aligned block past each taken one', () => {
    expect(firstFreeVmidBlock([])).toEqual(block(10_000));
    expect(firstFreeVmidBlock([block(10_000)])).toEqual(block(20_000));
    expect(firstFreeVmidBlock([block(20_000), block(10_000)])).toEqual(block(30_000));
  });

  it('skips every block a taken range touches, and uses gaps', () => {
    expect(firstFreeVmidBlock([{ vmidMin: 100, vmidMax: 999 }])).toEqual(block(10_000));
    expect(firstFreeVmidBlock([{ vmidMin: 19_999, vmidMax: 20_000 }])).toEqual(block(30_000));
    expect(firstFreeVmidBlock([block(10_000), { vmidMin: 35_000, vmidMax: 35_010 }])).toEqual(
      block(20_000),
    );
    expect(
      firstFreeVmidBlock([block(10_000), { vmidMin: 15_000, vmidMax: 41_000 }, block(20_000)]),
    ).toEqual(block(50_000));
  });

  it('answers null when no block is left', () => {
    expect(firstFreeVmidBlock([{ vmidMin: 100, vmidMax: 999_999_999 }])).toBeNull();
  });
});
