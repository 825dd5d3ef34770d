import type { Protocol } from '../catalog/catalog-app';

/** One DNAT rule of Proximity's chain, as `nft -j list` shows it. */
export interface NftForward {
  handle: number;
  comment: string | null;
  protocol: Protocol;
  publicPort: number;
  targetAddress: string;
  targetPort: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `tcp dport N` and `dnat to A:P` out of a rule's expressions; null for any other rule. */
function forwardOf(rule: Json): NftForward | null {
  const expr = Array.isArray(rule.expr) ? (rule.expr as unknown[]) : [];
  let protocol: Protocol | null = null;
  let publicPort: number | null = null;
  let target: { addr: string; port: number | null } | null = null;
  for (const item of expr) {
    if (!isObject(item)) continue;
    const match = item.match;
    if (isObject(match) && isObject(match.left) && isObject(match.left.payload)) {
      const { protocol: proto, field } = match.left.payload;
      if ((proto === 'tcp' || proto === 'udp') && field === 'dport') {
        protocol = proto;
        publicPort = typeof match.right === 'number' ? match.right : null;
      }
    }
    if (isObject(item.dnat) && typeof item.dnat.addr === 'string') {
      target = {
        addr: item.dnat.addr,
        port: typeof item.dnat.port === 'number' ? item.dnat.port : null,
      };
    }
  }
  if (protocol === null || publicPort === null || target === null) return null;
  return {
    handle: Number(rule.handle),
    comment: typeof rule.comment === 'string' ? rule.comment : null,
    protocol,
    publicPort,
    targetAddress: target.addr,
    targetPort: target.port ?? publicPort,
  };
}

/** The DNAT forwards of one chain in `nft -j list table …` output. */
export function parseForwards(json: string, table: string, chain: string): NftForward[] {
  const parsed: unknown = JSON.parse(json);
  const items = isObject(parsed) && Array.isArray(parsed.nftables) ? parsed.nftables : [];
  const forwards: NftForward[] = [];
  for (const item of items as unknown[]) {
    if (!isObject(item) || !isObject(item.rule)) continue;
    if (item.rule.table !== table || item.rule.chain !== chain) continue;
    const forward = forwardOf(item.rule);
    if (forward) forwards.push(forward);
  }
  return forwards;
}
