import { isNodeName } from '../node-name';
import { ProxmoxError, ProxmoxErrorKind } from './proxmox-error';

export interface ParsedUpid {
  /** The node that runs the task and keeps its log: the only node that knows it. */
  node: string;
  /** Worker type: `vzcreate`, `vzstart`, … */
  type: string;
  /** The task's object, e.g. the VMID; may be empty. */
  id: string;
}

// UPID:<node>:<pid>:<pstart>:<starttime>:<type>:<id>:<user>: (pve-common's PVE::Tools::upid_decode).
const UPID =
  /^UPID:([^:]+):[0-9A-Fa-f]{8}:[0-9A-Fa-f]{8,9}:[0-9A-Fa-f]{8}:([^:\s/]+):([^:\s/]*):[^:\s/]+:$/;

/** Reads a UPID; refuses one that is malformed or names an invalid node, before any request. */
export function parseUpid(upid: string): ParsedUpid {
  const match = UPID.exec(upid);
  if (!match || !isNodeName(match[1])) {
    throw new ProxmoxError(ProxmoxErrorKind.InvalidRequest, `malformed UPID '${upid}'`);
  }
  return { node: match[1], type: match[2], id: match[3] };
}
