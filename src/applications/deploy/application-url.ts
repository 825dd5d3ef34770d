/**
 * `http://<address of the node>:<public port>`, the node being the one that
 * runs the container and forwards its ports; an IPv6 literal is bracketed.
 */
export function applicationUrl(nodeAddress: string, publicPort: number): string {
  const host = nodeAddress.includes(':') ? `[${nodeAddress}]` : nodeAddress;
  return `http://${host}:${publicPort}`;
}
