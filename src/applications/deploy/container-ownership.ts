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
