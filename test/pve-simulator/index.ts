import { claimAddressBlock } from './network/address-block';
import { Router } from './api/router';
import { Authenticator } from './api/authenticator';
import { PveHttpServer } from './api/pve-http-server';
import { registerAccessRoutes } from './api/routes/access-routes';
import { registerClusterRoutes } from './api/routes/cluster-routes';
import { registerLxcRoutes } from './api/routes/lxc-routes';
import { registerLxcStatusRoutes } from './api/routes/lxc-status-routes';
import { registerSnapshotRoutes } from './api/routes/snapshot-routes';
import { registerStorageRoutes } from './api/routes/storage-routes';
import { registerTaskRoutes } from './api/routes/task-routes';
import { registerVzdumpRoutes } from './api/routes/vzdump-routes';
import { ControlRoutes } from './control/control-routes';
import { createSshHostKey } from './identity/ssh-host-key';
import { createTlsIdentity } from './identity/tls-identity';
import { resolveOptions, SimulatorOptions } from './options';
import { Simulation } from './simulation';
import { SimulatedSshServer } from './ssh/ssh-server';
import { StateFile } from './state/state-file';

export type { SimulatorOptions } from './options';

/** The ready line (README.md, "Running it"), field for field. */
export interface ReadyInfo {
  api: string;
  ssh: string;
  tlsFingerprint: string;
  sshHostKeyFingerprint: string;
  tokenId: string;
  tokenSecret: string;
  username: string;
  password: string;
  sshUser: string;
  sshPassword: string;
  nodes: string[];
}

export interface RunningSimulator extends ReadyInfo {
  port: number;
  sshPort: number;
  /** The self-signed certificate (PEM), for clients that pin a CA instead of the fingerprint. */
  certificatePem: string;
  /** Closes every socket (API, SSH, responders, forwarders) and cancels pending tasks. */
  stop(): Promise<void>;
}

const READY_FIELDS = [
  'api',
  'ssh',
  'tlsFingerprint',
  'sshHostKeyFingerprint',
  'tokenId',
  'tokenSecret',
  'username',
  'password',
  'sshUser',
  'sshPassword',
  'nodes',
] as const satisfies readonly (keyof ReadyInfo)[];

/** The ready line (README.md, "Running it"): exactly these fields, in this order. */
export function readyInfo(running: RunningSimulator): ReadyInfo {
  return Object.fromEntries(READY_FIELDS.map((key) => [key, running[key]])) as unknown as ReadyInfo;
}

/** Starts a simulated Proxmox VE cluster (HTTPS API + SSH) in this process. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const resolved = resolveOptions(options);
  const publicHost =
    resolved.host === '0.0.0.0' ? '127.0.0.1' : resolved.host === '::' ? '::1' : resolved.host;
  const tls = await createTlsIdentity(resolved.nodes[0]);
  const hostKey = createSshHostKey();

  let stateFile: StateFile | null = null;
  const sim = new Simulation({
    nodes: resolved.nodes,
    seed: resolved.seed,
    latency: resolved.latency,
    forwardHost: resolved.host,
    nodeAddresses: resolved.nodeAddresses,
    onChange: () => stateFile?.schedule(),
  });
  if (resolved.stateFile) {
    stateFile = new StateFile(resolved.stateFile, sim.cluster);
    stateFile.load();
  }
  const addressBlock = await claimAddressBlock();
  sim.cluster.leaseFromBlock(addressBlock.block);
  // After the load: guests that were there before a restart have their figures at once.
  sim.pvestatd.start();

  const auth = new Authenticator(
    {
      username: resolved.username,
      password: resolved.password,
      tokenId: resolved.tokenId,
      tokenSecret: resolved.tokenSecret,
    },
    tls.privateKey,
    () => sim.now(),
  );
  const router = new Router();
  registerAccessRoutes(router, auth);
  registerClusterRoutes(router, sim, {
    tlsFingerprint: tls.fingerprint256,
    nodeAddress: (node) => resolved.nodeAddresses[node] ?? publicHost,
  });
  registerLxcRoutes(router, sim);
  registerLxcStatusRoutes(router, sim);
  registerSnapshotRoutes(router, sim);
  registerStorageRoutes(router, sim);
  registerVzdumpRoutes(router, sim);
  registerTaskRoutes(router, sim);

  const http = new PveHttpServer(
    { key: tls.keyPem, cert: tls.certPem, unauthorizedDelayMs: resolved.unauthorizedDelayMs },
    sim,
    router,
    auth,
    new ControlRoutes(sim),
  );
  const ssh = new SimulatedSshServer(
    hostKey.privateKeyOpenSsh,
    {
      user: resolved.sshUser,
      password: resolved.sshPassword,
      authorizedKeys: resolved.sshAuthorizedKeys,
    },
    sim,
    resolved.nodes[0],
  );

  let port: number;
  let sshPort: number;
  try {
    await sim.refreshNetwork();
    port = await http.listen(resolved.port, resolved.host);
    sshPort = await ssh.listen(resolved.sshPort, resolved.host);
  } catch (error) {
    await http.close();
    await ssh.close();
    await sim.close();
    await addressBlock.release();
    throw error;
  }

  const hostPart = publicHost.includes(':') ? `[${publicHost}]` : publicHost;
  let stopping: Promise<void> | null = null;
  return {
    api: `https://${hostPart}:${port}`,
    ssh: `${hostPart}:${sshPort}`,
    tlsFingerprint: tls.fingerprint256,
    sshHostKeyFingerprint: hostKey.fingerprint,
    tokenId: resolved.tokenId,
    tokenSecret: resolved.tokenSecret,
    username: resolved.username,
    password: resolved.password,
    sshUser: resolved.sshUser,
    sshPassword: resolved.sshPassword,
    nodes: [...resolved.nodes],
    port,
    sshPort,
    certificatePem: tls.certPem,
    stop(): Promise<void> {
      stopping ??= (async () => {
        await Promise.all([http.close(), ssh.close()]);
        await sim.close();
        await addressBlock.release();
        stateFile?.flush();
      })();
      return stopping;
    },
  };
}
