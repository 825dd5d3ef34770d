import { DomainError, ErrorCode } from '../../common/errors/domain-error';
import { NO_CAPACITY, placeApplication, type NodeCapacity } from './placement';

const MiB = 1024 * 1024;
const nodes: NodeCapacity[] = [
  { name: 'pve1', online: true, memoryFree: 2048 * MiB },
  { name: 'pve2', online: true, memoryFree: 4096 * MiB },
  { name: 'pve3', online: false, memoryFree: 65536 * MiB },
  { name: 'pve4', online: true, memoryFree: 512 * MiB },
];

function failure(run: () => unknown): DomainError {
  try {
    run();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('placement succeeded');
}

describe('placement', () => {
  it('picks the online node with the most free memory', () => {
    expect(placeApplication(nodes, 1024)).toBe('pve2');
  });

  it('never picks an offline node, however much memory it reports', () => {
    expect(failure(() => placeApplication(nodes, 8192)).code).toBe(ErrorCode.Unavailable);
  });

  it('breaks a tie by node name', () => {
    const tied: NodeCapacity[] = [
      { name: 'b', online: true, memoryFree: 1024 * MiB },
      { name: 'a', online: true, memoryFree: 1024 * MiB },
    ];
    expect(placeApplication(tied, 512)).toBe('a');
  });

  it('answers 503 when no online node fits the request', () => {
    const err = failure(() => placeApplication(nodes, 4097));
    expect({ code: err.code, message: err.message }).toEqual({
      code: ErrorCode.Unavailable,
      message: NO_CAPACITY,
    });
    expect(placeApplication(nodes, 4096)).toBe('pve2');
  });

  it('takes a requested node that is known and online', () => {
    expect(placeApplication(nodes, 1024, 'pve4')).toBe('pve4');
  });

  it.each([
    ['pve9', "node 'pve9' is not a node of this host"],
    ['pve3', "node 'pve3' is offline"],
  ])('answers 400 on node for the requested %s', (node, message) => {
    const err = failure(() => placeApplication(nodes, 1024, node));
    expect({ code: err.code, details: err.details }).toEqual({
      code: ErrorCode.InvalidInput,
      details: [{ field: 'node', message }],
    });
  });
});
