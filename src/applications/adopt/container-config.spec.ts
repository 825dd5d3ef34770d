import { captureConfig, rootfsSizeGb } from './container-config';

describe('captureConfig', () => {
  it('reads hostname and resources from the flat config', () => {
    expect(
      captureConfig(
        {
          hostname: 'legacy-web',
          cores: '2',
          memory: '2048',
          swap: '0',
          rootfs: 'local-lvm:vm-650001-disk-0,size=12G',
        },
        650001,
        8,
      ),
    ).toEqual({ hostname: 'legacy-web', cores: 2, memoryMb: 2048, swapMb: 0, diskGb: 12 });
  });

  it("fills what the config leaves out with Proxmox's defaults and the CPUs seen", () => {
    expect(captureConfig({}, 650002, 4)).toEqual({
      hostname: 'ct650002',
      cores: 4,
      memoryMb: 512,
      swapMb: 512,
      diskGb: 1,
    });
  });

  it('refuses a hostname that is not one RFC 1123 label', () => {
    expect(captureConfig({ hostname: 'web.example.com' }, 650003, 1)).toBeNull();
    expect(captureConfig({ hostname: '-web' }, 650003, 1)).toBeNull();
  });
});

describe('rootfsSizeGb', () => {
  it.each([
    ['local-lvm:vm-1-disk-0,size=8G', 8],
    ['local-lvm:vm-1-disk-0,size=512M', 1],
    ['local-lvm:vm-1-disk-0,size=1536M', 2],
    ['local-lvm:vm-1-disk-0,size=1T,ssd=1', 1024],
    ['local-lvm:vm-1-disk-0,size=10', 10],
  ])('%s is %i GiB', (rootfs, gb) => {
    expect(rootfsSizeGb(rootfs)).toBe(gb);
  });

  it('is null without a size', () => {
    expect(rootfsSizeGb('local-lvm:vm-1-disk-0')).toBeNull();
    expect(rootfsSizeGb(undefined)).toBeNull();
  });
});
