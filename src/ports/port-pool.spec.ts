import fc from 'fast-check';
import { pickPorts, type HeldPort } from './port-pool';

const range = { min: 30000, max: 30004 };

describe('port pool', () => {
  it('gives the lowest free ports, skipping held ones', () => {
    const held: HeldPort[] = [
      { port: 30000, protocol: 'tcp' },
      { port: 30002, protocol: 'tcp' },
    ];
    expect(pickPorts(range, held, ['tcp', 'tcp'])).toEqual([30001, 30003]);
  });

  it('counts a port per protocol', () => {
    const held: HeldPort[] = [{ port: 30000, protocol: 'tcp' }];
    expect(pickPorts(range, held, ['udp', 'tcp'])).toEqual([30000, 30001]);
  });

  it('answers null when the range cannot hold every wanted port', () => {
    expect(pickPorts(range, [], ['tcp', 'tcp', 'tcp', 'tcp', 'tcp'])).toEqual([
      30000, 30001, 30002, 30003, 30004,
    ]);
    expect(pickPorts(range, [{ port: 30004, protocol: 'tcp' }], Array(5).fill('tcp'))).toBeNull();
  });

  it('never picks a held port, a port twice, or one outside the range', () => {
    const heldArb = fc.array(
      fc.record({
        port: fc.integer({ min: 29998, max: 30040 }),
        protocol: fc.constantFrom('tcp' as const, 'udp' as const),
      }),
    );
    const wantedArb = fc.array(fc.constantFrom('tcp' as const, 'udp' as const), { maxLength: 8 });
    fc.assert(
      fc.property(heldArb, wantedArb, (held, wanted) => {
        const wide = { min: 30000, max: 30030 };
        const picked = pickPorts(wide, held, wanted);
        if (picked === null) return;
        const keys = picked.map((port, i) => `${wanted[i]}/${port}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const [i, port] of picked.entries()) {
          expect(port).toBeGreaterThanOrEqual(wide.min);
          expect(port).toBeLessThanOrEqual(wide.max);
          expect(held).not.toContainEqual({ port, protocol: wanted[i] });
        }
      }),
    );
  });
});
