/**
 * Proxmox's node-name format (pve-common's `pve-node`: one DNS label). Names
 * come from the cluster and end up in API paths and SSH command lines.
 */
const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

export function isNodeName(value: unknown): value is string {
  return typeof value === 'string' && NODE_NAME.test(value);
}
