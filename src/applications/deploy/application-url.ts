/**
 * `http://<address of the node>:<public port>`. The node is reached at the
 * host's address (the node Proximity talks to); an IPv6 literal is bracketed.
 */
export function applicationUrl(nodeAddress: string, publicPort: number): string {
  const host = nodeAddress.includes(':') ? `[${nodeAddress}]` : nodeAddress;
  return `http://${host}:${publicPort}`;
}
