import type { RunningSimulator } from '../pve-simulator';

/**
 * A host body that registers a running simulator with its real credentials and
 * pins; each test file picks its own VMID block so hosts never overlap.
 */
export function simulatorHostBody(
  sim: RunningSimulator,
  name: string,
  vmidMin: number,
  vmidCount = 1000,
): Record<string, unknown> {
  return {
    name,
    host: '127.0.0.1',
    port: sim.port,
    tokenId: sim.tokenId,
    tokenSecret: sim.tokenSecret,
    tlsFingerprint: sim.tlsFingerprint,
    sshPort: sim.sshPort,
    sshPassword: sim.sshPassword,
    sshHostKeyFingerprint: sim.sshHostKeyFingerprint,
    vmidMin,
    vmidMax: vmidMin + vmidCount - 1,
  };
}
