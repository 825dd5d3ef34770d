import type { Principal } from '../api/api-request';
import type { Simulation } from '../simulation';
import { Cluster } from '../state/cluster';
import { Container } from '../state/container';
import { parseFeatures, parseMountPoint } from '../state/container-config';
import { lockTimeoutMessage } from './config-file-lock';
import { PveError } from './pve-error';

export function configPath(node: string, vmid: number | string): string {
  return `nodes/${node}/lxc/${vmid}.conf`;
}

/** PVE::LXC::Config->load_config on `node`: the config file must live on that node. */
export function loadContainer(cluster: Cluster, node: string, vmid: number): Container {
  const container = cluster.containerOn(node, vmid);
  if (!container)
    throw PveError.die(`Configuration file '${configPath(node, vmid)}' does not exist`);
  return container;
}

export function lockMessage(container: Container): string | null {
  return container.lock ? `CT is locked (${container.lock})` : null;
}

/** AbstractConfig->check_lock. */
export function checkLock(container: Container): void {
  const message = lockMessage(container);
  if (message) throw PveError.die(message);
}

/**
 * lock_config run by the API handler itself (config PUT, clone's set_lock,
 * create_and_lock_config) or by `pct set`: the caller waits for the config file
 * lock, and a timeout fails with lock_file's text after `errorPrefix`.
 * lock_file tells stderr that it waits: `progress` gets those lines (the CLI
 * shows them; pvedaemon's stderr goes to its journal).
 */
export async function withConfigLock<T>(
  sim: Simulation,
  node: string,
  vmid: number,
  code: () => T,
  options: { timeoutMs?: number; errorPrefix?: string; progress?: (line: string) => void } = {},
): Promise<T> {
  let release = sim.configLocks.tryAcquire(node, vmid);
  if (!release) {
    options.progress?.('trying to acquire lock...');
    const timeoutMs = options.timeoutMs ?? sim.latency.lockWaitMs;
    release = await sim.configLocks.acquire(node, vmid, timeoutMs, sim.scheduler);
    if (!release) throw PveError.die(`${options.errorPrefix ?? ''}${lockTimeoutMessage(vmid)}`);
    options.progress?.(' OK');
  }
  try {
    return code();
  } finally {
    release();
  }
}

/** create_and_lock_config waits 5 s where lock_config waits 10 s: half the knob. */
export function createLockWaitMs(sim: Simulation): number {
  return Math.floor(sim.latency.lockWaitMs / 2);
}

/** check_vmid_unused: the type and node of the guest that holds the id. */
export function vmidInUseMessage(cluster: Cluster, vmid: number): string | null {
  const existing = cluster.containers.get(vmid);
  return existing ? `CT ${vmid} already exists on node '${existing.node}'` : null;
}

export function isRoot(principal: Principal): boolean {
  return principal.userid === 'root@pam';
}

/**
 * PVE::LXC::check_ct_modify_config_perm for callers other than root@pam
 * (tokens included): the options only root may set. The token is privileged
 * otherwise (no privilege separation), so ACL checks always pass.
 */
export function checkModifyConfigPermission(
  principal: Principal,
  oldConfig: Record<string, string> | null,
  newParams: Record<string, string>,
  deleted: string[],
  unprivileged: boolean,
): void {
  if (isRoot(principal)) return;
  const check = (option: string, isDelete: boolean): void => {
    if (option === 'rootfs' || /^mp\d+$/.test(option)) {
      if (isDelete) return;
      const volume = parseMountPoint(option as 'rootfs', newParams[option]).volume;
      if (volume.startsWith('/'))
        throw PveError.permission(
          `mount point type ${volume.startsWith('/dev/') ? 'device' : 'bind'} is only allowed for root@pam`,
        );
    } else if (/^dev\d+$/.test(option)) {
      throw PveError.permission('configuring device passthrough is only allowed for root@pam');
    } else if (option === 'features') {
      if (!unprivileged)
        throw PveError.permission(
          'changing feature flags for privileged container is only allowed for root@pam',
        );
      let otherChanged = false;
      if (!isDelete) {
        const features = parseFeatures(newParams.features);
        if (oldConfig?.features) {
          const old = parseFeatures(oldConfig.features);
          for (const feature of new Set([...Object.keys(old), ...Object.keys(features)])) {
            if ((old[feature] ?? '') !== (features[feature] ?? '') && feature !== 'nesting')
              otherChanged = true;
          }
        } else {
          const keys = Object.keys(features);
          otherChanged = keys.length > 0 && !(keys.length === 1 && keys[0] === 'nesting');
        }
      } else {
        const keys = Object.keys(parseFeatures(oldConfig?.features));
        otherChanged = keys.length > 0 && !(keys.length === 1 && keys[0] === 'nesting');
      }
      if (otherChanged)
        throw PveError.permission(
          'changing feature flags (except nesting) is only allowed for root@pam',
        );
    } else if (option === 'hookscript') {
      throw PveError.permission('changing the hookscript is only allowed for root@pam');
    }
  };
  for (const option of Object.keys(newParams)) check(option, false);
  for (const option of deleted) check(option, true);
}
