import type { RunningSimulator } from '../pve-simulator';
import type { TestApp } from './test-app';
import { bearer, type Session } from './users';

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

/**
 * Registers the simulator as the default host for deployments, with a public
 * port pool of the test file's own below the ephemeral ports: forwarded ports
 * really listen on this machine, so two files must never share one. Its id.
 */
export async function registerDeployHost(
  t: Pick<TestApp, 'http'>,
  admin: Session,
  sim: RunningSimulator,
  name: string,
  vmidMin: number,
  [portMin, portMax]: [number, number],
): Promise<string> {
  const res = await t
    .http()
    .post('/api/proxmox/hosts')
    .set(bearer(admin))
    .send({ ...simulatorHostBody(sim, name, vmidMin), portMin, portMax, isDefault: true });
  expect(res.status).toBe(201);
  return (res.body as { id: string }).id;
}
