import { belongsTo } from '../deploy/container-ownership';
import { cloneTags } from './clone.steps';

const SOURCE = '0b5e8f3c-1d2a-4c3b-9e8f-7a6b5c4d3e2f';
const CLONE = 'f1e2d3c4-b5a6-4978-8a9b-0c1d2e3f4a5b';

describe('cloneTags', () => {
  it("replaces the source's ownership tag by the clone's and keeps an admin's own tags", () => {
    const tags = cloneTags(`backup-daily;proximity;proximity-${SOURCE};team-a`, CLONE);
    expect(tags).toEqual(['proximity', `proximity-${CLONE}`, 'backup-daily', 'team-a']);
    expect(belongsTo({ tags: tags.join(';') }, CLONE)).toBe(true);
    expect(belongsTo({ tags: tags.join(';') }, SOURCE)).toBe(false);
  });

  it('reads the separators Proxmox accepts and a source without tags', () => {
    expect(cloneTags(`proximity-${SOURCE}, web proximity`, CLONE)).toEqual([
      'proximity',
      `proximity-${CLONE}`,
      'web',
    ]);
    expect(cloneTags(undefined, CLONE)).toEqual(['proximity', `proximity-${CLONE}`]);
  });
});
