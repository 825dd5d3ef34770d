import {
  applicationDescription,
  applicationTag,
  belongsTo,
  parseFeatures,
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

  it('reads a features property string', () => {
    expect(parseFeatures('nesting=1,keyctl=1')).toEqual({ nesting: '1', keyctl: '1' });
    expect(parseFeatures(undefined)).toEqual({});
  });
});
