import { DomainError } from '../common/errors/domain-error';
import { decodeCursor, encodeCursor } from './log-cursor';

describe('log cursor', () => {
  it('reads back what it wrote', () => {
    const cursor = {
      at: new Date('2026-11-30T12:00:00.123Z'),
      id: '6f0329e7-66c4-4935-9e46-5287f961dcfd',
    };
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['not base64 of a cursor', 'hello'],
    [
      'a date that is not ISO',
      Buffer.from('yesterday|6f0329e7-66c4-4935-9e46-5287f961dcfd').toString('base64url'),
    ],
    [
      'an id that is not a UUID',
      Buffer.from('2026-11-30T12:00:00.123Z|1 or 1=1').toString('base64url'),
    ],
    [
      'extra parts',
      Buffer.from('2026-11-30T12:00:00.123Z|6f0329e7-66c4-4935-9e46-5287f961dcfd|x').toString(
        'base64url',
      ),
    ],
  ])('refuses %s with a 400 on before', (_what, text) => {
    expect(() => decodeCursor(text)).toThrow(DomainError);
    try {
      decodeCursor(text);
    } catch (err) {
      expect((err as DomainError).details).toEqual([
        { field: 'before', message: 'before must be a nextCursor of this log' },
      ]);
    }
  });
});
