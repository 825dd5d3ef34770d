import { pickVmid } from './vmid-picker';

const range = { vmidMin: 10000, vmidMax: 10003 };

describe('VMID picker', () => {
  it('gives the lowest id of the range when nothing uses it', () => {
    expect(pickVmid(range, [])).toBe(10000);
  });

  it('skips ids used by applications and by cluster guests alike', () => {
    expect(pickVmid(range, [10000, 10002, 10001])).toBe(10003);
  });

  it('ignores ids outside the range', () => {
    expect(pickVmid(range, [100, 9999, 10004])).toBe(10000);
  });

  it('answers null when every id of the range is used', () => {
    expect(pickVmid(range, [10000, 10001, 10002, 10003])).toBeNull();
  });
});
