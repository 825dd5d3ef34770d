/** Default VMID ranges are aligned blocks of this size, the first one starting here. */
export const VMID_BLOCK_SIZE = 10_000;
export const VMID_BLOCK_START = 10_000;
const VMID_MAX = 999_999_999;

export interface VmidRange {
  vmidMin: number;
  vmidMax: number;
}

/** The first block (10000-19999, 20000-29999, …) overlapping none of `taken`; null when none is left. */
export function firstFreeVmidBlock(taken: readonly VmidRange[]): VmidRange | null {
  let start = VMID_BLOCK_START;
  for (const range of [...taken].sort((a, b) => a.vmidMin - b.vmidMin)) {
    if (range.vmidMax < start) continue;
    if (range.vmidMin > start + VMID_BLOCK_SIZE - 1) break;
    const blocksPast = Math.ceil((range.vmidMax + 1 - VMID_BLOCK_START) / VMID_BLOCK_SIZE);
    start = VMID_BLOCK_START + blocksPast * VMID_BLOCK_SIZE;
  }
  const end = start + VMID_BLOCK_SIZE - 1;
  return end <= VMID_MAX ? { vmidMin: start, vmidMax: end } : null;
}
