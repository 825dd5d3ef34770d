import { lockWaitWithin } from './backup.steps';

describe('lockWaitWithin', () => {
  const now = 1_000_000_000;
  const hours = (n: number) => now + n * 3600_000;

  it("is Proxmox's 180 minutes when the deadline leaves room for them and the backup", () => {
    expect(lockWaitWithin(hours(4), now)).toBe(180);
    expect(lockWaitWithin(hours(48), now)).toBe(180);
  });

  it('shrinks with a shorter deadline, keeping half an hour for the backup itself', () => {
    expect(lockWaitWithin(hours(1), now)).toBe(30);
    expect(lockWaitWithin(hours(2), now)).toBe(90);
  });

  it('is 0 (do not wait) when the deadline is near or past', () => {
    expect(lockWaitWithin(now + 20 * 60_000, now)).toBe(0);
    expect(lockWaitWithin(now - 1, now)).toBe(0);
  });
});
