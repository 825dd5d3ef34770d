import {
  applicationDescription,
  applicationTag,
  belongsTo,
  hasOwnershipTag,
  markedApplication,
  operationOfSnapshot,
  parseFeatures,
  temporarySnapshotName,
} from './container-ownership';

describe('container ownership marks', () => {
  const id = '0b7e4d3c-1111-4000-8000-000000000001';

  it('recognises the tag or the description line, each alone', () => {
    expect(belongsTo({ tags: `proximity;${applicationTag(id)}` }, id)).toBe(true);
    expect(belongsTo({ description: applicationDescription(id) }, id)).toBe(true);
    expect(belongsTo({ tags: `other ${applicationTag(id)}` }, id)).toBe(true);
  });

  it("never takes another application's or a foreign guest for ours", () => {
    const other = '0b7e4d3c-1111-4000-8000-000000000002';
    expect(belongsTo({ tags: `proximity;${applicationTag(other)}` }, id)).toBe(false);
    expect(belongsTo({ description: `notes mentioning ${id}` }, id)).toBe(false);
    expect(belongsTo({ tags: `${applicationTag(id)}x` }, id)).toBe(false);
    expect(belongsTo({}, id)).toBe(false);
  });

  it('names the application a marked config belongs to, by tag or description line', () => {
    expect(markedApplication({ tags: `proximity;${applicationTag(id)}` })).toBe(id);
    expect(markedApplication({ description: applicationDescription(id.toUpperCase()) })).toBe(id);
    expect(markedApplication({ tags: 'proximity;web', description: 'notes' })).toBeNull();
    expect(markedApplication({ tags: `${applicationTag(id)}x` })).toBeNull();
    expect(markedApplication({})).toBeNull();
  });

  it('filters listed guests on their tags before any config is read', () => {
    expect(hasOwnershipTag(['proximity'])).toBe(true);
    expect(hasOwnershipTag([applicationTag(id)])).toBe(true);
    expect(hasOwnershipTag(['web', 'proximityx', `${applicationTag(id)}x`])).toBe(false);
  });

  it('reads a features property string', () => {
    expect(parseFeatures('nesting=1,keyctl=1')).toEqual({ nesting: '1', keyctl: '1' });
    expect(parseFeatures(undefined)).toEqual({});
  });
});

describe('temporary snapshot names', () => {
  it('carry the operation id and give it back', () => {
    const id = '0f8e4c2a-1b3d-4e5f-8a9b-0c1d2e3f4a5b';
    const name = temporarySnapshotName(id);
    expect(name).toMatch(/^[A-Za-z][A-Za-z0-9_-]{1,39}$/);
    expect(operationOfSnapshot(name)).toBe(id);
  });

  it('are not confused with snapshots a person took', () => {
    expect(operationOfSnapshot('before-upgrade')).toBeNull();
    expect(operationOfSnapshot('prx123')).toBeNull();
  });
});
