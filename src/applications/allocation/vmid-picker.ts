export interface VmidRange {
  vmidMin: number;
  vmidMax: number;
}

/**
 * The lowest id of the host's range that neither an application row nor a
 * guest of the cluster uses; null when the range is full.
 */
export function pickVmid(range: VmidRange, taken: Iterable<number>): number | null {
  const used = new Set(taken);
  for (let vmid = range.vmidMin; vmid <= range.vmidMax; vmid += 1) {
    if (!used.has(vmid)) return vmid;
  }
  return null;
}
