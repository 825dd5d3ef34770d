import {
  ApplicationAllocator,
  type Allocation,
  type AllocationRequest,
} from '../../src/applications/allocation/application-allocator';
import type { TestApp } from './test-app';
import { bearer, type Session } from './users';

/** Registers a host through the API (no Proxmox is contacted) and returns its id. */
export async function createHost(
  t: TestApp,
  admin: Session,
  name: string,
  ranges: { vmidMin: number; vmidMax: number; portMin?: number; portMax?: number },
): Promise<string> {
  const res = await t
    .http()
    .post('/api/proxmox/hosts')
    .set(bearer(admin))
    .send({
      name,
      host: 'pve.invalid',
      tokenId: 'root@pam!proximity',
      tokenSecret: '00000000-0000-4000-8000-000000000001',
      tlsInsecure: true,
      sshPassword: 'ssh-password',
      sshInsecure: true,
      ...ranges,
    });
  if (res.status !== 201) throw new Error(`creating host ${name} answered ${res.status}`);
  return (res.body as { id: string }).id;
}

/** A deploy request as the deploy route will hand it to the allocator. */
export function allocationRequest(
  owner: Session,
  hostId: string,
  hostname: string,
  overrides: Partial<AllocationRequest> = {},
): AllocationRequest {
  return {
    ownerId: owner.userId,
    actorId: owner.userId,
    hostId,
    node: 'pve1',
    catalogId: 'whoami',
    name: `App ${hostname}`,
    hostname,
    resources: { cores: 1, memoryMb: 512, diskGb: 4, swapMb: 0 },
    environment: { GREETING: 'hello' },
    secretEnvironment: { API_KEY: `secret-of-${hostname}` },
    ports: [
      { name: 'http', containerPort: 80, protocol: 'tcp' },
      { name: 'dns', containerPort: 53, protocol: 'udp' },
    ],
    rootPassword: `root-password-of-${hostname}`,
    clusterVmids: [],
    ...overrides,
  };
}

/** Seeds an application the way a deploy request does: through the allocator. */
export function allocate(t: TestApp, req: AllocationRequest): Promise<Allocation> {
  return t.app.get(ApplicationAllocator).allocate(req);
}
