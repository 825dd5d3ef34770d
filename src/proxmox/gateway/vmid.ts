import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';

/** Proxmox's VMID range (pve-common's `pve-vmid`: 100 to 999999999). */
export function isVmid(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 999_999_999;
}

/** A VMID as the path segment it becomes, refused before sending when it is not one. */
export function vmidSegment(vmid: number): number {
  if (!isVmid(vmid)) {
    throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `refused VMID '${String(vmid)}'`);
  }
  return vmid;
}
