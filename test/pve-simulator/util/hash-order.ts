/**
 * The order Perl's `keys %hash` gives: unrelated to insertion, fixed for one
 * process (here, for one seed). pve-container lists snapshots that way, so a
 * client that wants creation order must sort by `snaptime` itself; lists of
 * two or more never come back in insertion order here, so a client that
 * forgot to sort fails in tests rather than on a real cluster.
 */
export class HashOrder {
  constructor(private readonly salt: number) {}

  sort<T>(items: readonly T[], key: (item: T) => string): T[] {
    const sorted = [...items].sort((a, b) => this.compare(key(a), key(b)));
    return sameOrder(sorted, items) ? rotateByOne(sorted) : sorted;
  }

  private compare(a: string, b: string): number {
    return this.hash(a) - this.hash(b) || (a < b ? -1 : a > b ? 1 : 0);
  }

  /** FNV-1a, salted, so that each seed shuffles differently. */
  private hash(text: string): number {
    let hash = (0x811c9dc5 ^ this.salt) >>> 0;
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash;
  }
}

function sameOrder<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length > 1 && a.every((item, i) => item === b[i]);
}

function rotateByOne<T>(items: T[]): T[] {
  return [...items.slice(1), items[0]];
}
