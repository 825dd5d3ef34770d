import { DomainError } from '../../common/errors/domain-error';

/** What placement needs to know of a node, from live cluster data. */
export interface NodeCapacity {
  name: string;
  online: boolean;
  /** Bytes. */
  memoryFree: number;
}

export const NO_CAPACITY = 'no node has enough free memory for this application';

/**
 * The node an application goes to: the requested one when it is known and
 * online (400 otherwise), else the online node with the most free memory
 * that fits the request (ties: by name), else 503.
 */
export function placeApplication(
  nodes: readonly NodeCapacity[],
  memoryMb: number,
  requested?: string,
): string {
  if (requested !== undefined) {
    const node = nodes.find((n) => n.name === requested);
    if (!node) throw DomainError.invalid('node', `node '${requested}' is not a node of this host`);
    if (!node.online) throw DomainError.invalid('node', `node '${requested}' is offline`);
    return node.name;
  }
  const needed = memoryMb * 1024 * 1024;
  const best = nodes
    .filter((n) => n.online && n.memoryFree >= needed)
    .sort((a, b) => b.memoryFree - a.memoryFree || a.name.localeCompare(b.name))[0];
  if (!best) throw DomainError.unavailable(NO_CAPACITY);
  return best.name;
}
