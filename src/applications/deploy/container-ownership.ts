/**
 * How a container says it belongs to an application: a tag and a line of its
 * description, both written at create time. Either one is enough to
 * recognise it (an admin may edit one), neither to destroy another's guest.
 */
export const PROXIMITY_TAG = 'proximity';

export function applicationTag(applicationId: string): string {
  // Proxmox lower-cases tags; ids are UUIDs, already lower-case.
  return `proximity-${applicationId.toLowerCase()}`;
}

export function applicationDescription(applicationId: string): string {
  return `Managed by Proximity.\nproximity-application: ${applicationId}\n`;
}

export function belongsTo(config: Record<string, string>, applicationId: string): boolean {
  const tags = (config.tags ?? '').split(/[;, ]+/);
  if (tags.includes(applicationTag(applicationId))) return true;
  return (config.description ?? '')
    .split('\n')
    .some((line) => line.trim() === `proximity-application: ${applicationId}`);
}

/** `features` as a map, e.g. `nesting=1,keyctl=1` → {nesting: '1', keyctl: '1'}. */
export function parseFeatures(value: string | undefined): Record<string, string> {
  const features: Record<string, string> = {};
  for (const part of (value ?? '').split(',')) {
    const [key, v] = part.split('=');
    if (key) features[key.trim()] = (v ?? '').trim();
  }
  return features;
}

/**
 * The temporary snapshot an operation (a clone of a running container) takes:
 * named after the operation, so the reconciler can tell whether its
 * operation still runs. Proxmox snapshot names: a letter, then up to 39 of
 * `[A-Za-z0-9_-]`.
 */
export function temporarySnapshotName(operationId: string): string {
  return `prx${operationId.replace(/-/g, '').toLowerCase()}`;
}

const TEMPORARY_SNAPSHOT = /^prx([0-9a-f]{32})$/;

/** The operation id a temporary snapshot's name carries, or null for any other snapshot. */
export function operationOfSnapshot(name: string): string | null {
  const hex = TEMPORARY_SNAPSHOT.exec(name)?.[1];
  if (!hex) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const APPLICATION_TAG =
  /^proximity-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const APPLICATION_LINE = /^proximity-application: ([0-9a-fA-F-]{36})$/;

/** Whether a guest's tags carry one of our marks (a cheap filter before its config is read). */
export function hasOwnershipTag(tags: readonly string[]): boolean {
  return tags.some((tag) => tag === PROXIMITY_TAG || APPLICATION_TAG.test(tag));
}

/**
 * The application a container's config names by our tag or, failing that,
 * by our description line; null for a container without our marks.
 */
export function markedApplication(config: Record<string, string>): string | null {
  for (const tag of (config.tags ?? '').split(/[;, ]+/)) {
    const id = APPLICATION_TAG.exec(tag)?.[1];
    if (id) return id;
  }
  for (const line of (config.description ?? '').split('\n')) {
    const id = APPLICATION_LINE.exec(line.trim())?.[1];
    if (id) return id.toLowerCase();
  }
  return null;
}
