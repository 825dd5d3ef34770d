import type { Principal } from '../api/api-request';
import { splitList } from '../api/schema/named-formats';
import { Container } from '../state/container';
import {
  isConfigOption,
  normalizeTags,
  parseNetwork,
  printNetwork,
} from '../state/container-config';
import { checkLock, checkModifyConfigPermission } from './container-access';
import { applyPending, cleanupPending, hotplugPending } from './pending-changes';
import { PveError } from './pve-error';

/** Options a config update can change without the disk handling the simulator does not model. */
const DISK_OPTIONS = /^(rootfs|mp\d+|unused\d+|dev\d+)$/;

export interface ConfigUpdate {
  /** Options to set (validated against the schema already). */
  values: Record<string, string>;
  delete?: string;
  revert?: string;
  digest?: string;
}

/** A net interface's value as Proxmox stores it: MAC assigned, `type=veth`, keys ordered. */
export function normalizeNetwork(value: string, randomMac: () => string): string {
  const parsed = parseNetwork(value);
  parsed.hwaddr ??= randomMac();
  parsed.type ??= 'veth';
  return printNetwork(parsed);
}

/** Normalises one option's value the way update_pct_config stores it. */
export function normalizeOption(option: string, value: string, randomMac: () => string): string {
  if (option === 'tags') return normalizeTags(value);
  if (/^net\d+$/.test(option)) return normalizeNetwork(value, randomMac);
  return value;
}

/**
 * PUT /nodes/{node}/lxc/{vmid}/config (and `pct set`): synchronous, under
 * the config lock, with the digest check and the root-only options. A
 * stopped container takes every change at once; a running one only the
 * hot-pluggable ones, the rest waits in the pending section.
 */
export function updateContainerConfig(
  container: Container,
  update: ConfigUpdate,
  principal: Principal,
  randomMac: () => string,
): void {
  const deleted = splitList(update.delete ?? '');
  const reverted = splitList(update.revert ?? '');
  if (Object.keys(update.values).length === 0 && deleted.length === 0 && reverted.length === 0)
    throw PveError.die('no options specified');
  checkLock(container);
  if (update.digest && update.digest !== container.digest()) {
    throw PveError.die('detected modified configuration - file changed by other user? Try again.');
  }
  const unprivileged = container.config.unprivileged === '1';
  checkModifyConfigPermission(principal, container.config, {}, deleted, unprivileged);
  checkModifyConfigPermission(principal, container.config, {}, reverted, unprivileged);
  for (const option of reverted) {
    if (!isConfigOption(option)) throw PveError.param({ revert: `unknown option '${option}'` });
    if (update.values[option] !== undefined)
      throw PveError.param({
        revert: `you can't use '-${option}' and '-revert ${option}' at the same time`,
      });
  }
  for (const option of deleted) {
    if (!isConfigOption(option)) throw PveError.param({ delete: `unknown option '${option}'` });
    if (update.values[option] !== undefined)
      throw PveError.param({
        delete: `you can't use '-${option}' and -delete ${option}' at the same time`,
      });
    if (reverted.includes(option))
      throw PveError.param({
        delete: `you can't use '-delete ${option}' and '-revert ${option}' at the same time`,
      });
  }
  checkModifyConfigPermission(principal, container.config, update.values, [], unprivileged);

  // Worked on copies: a refusal below leaves the config file as it was.
  const pendingValues = { ...container.pending.values };
  const pendingDelete = new Set(container.pending.delete);
  for (const option of reverted) {
    delete pendingValues[option];
    pendingDelete.delete(option);
  }
  /** update_pct_config's $modified: what hot-plugging or applying may touch (reverts are not). */
  const modified = new Set<string>();
  for (const option of deleted) {
    if (container.config[option] === undefined && pendingValues[option] === undefined) continue;
    modified.add(option);
    if (option === 'memory' || option === 'rootfs' || option === 'ostype')
      throw PveError.die(`unable to delete required option '${option}'`);
    if (option === 'unprivileged')
      throw PveError.die(`unable to delete read-only option: '${option}'`);
    if (DISK_OPTIONS.test(option))
      throw PveError.die(`deleting '${option}' is not supported by the Proxmox VE simulator`);
    pendingDelete.add(option);
  }
  for (const option of Object.keys(update.values).sort()) {
    modified.add(option);
    const value = update.values[option];
    if (option === 'unprivileged')
      throw PveError.die(`unable to modify read-only option: '${option}'`);
    if (DISK_OPTIONS.test(option))
      throw PveError.die(`changing '${option}' is not supported by the Proxmox VE simulator`);
    if (/[\r\n]/.test(value) && option !== 'description')
      throw PveError.die('property contains a line feed');
    pendingValues[option] = normalizeOption(option, value, randomMac);
    pendingDelete.delete(option);
  }
  // Every change goes through the pending section first, as update_pct_config writes it.
  container.pending = { values: pendingValues, delete: [...pendingDelete].sort() };
  cleanupPending(container);
  if (container.status === 'running') hotplugPending(container, modified);
  else applyPending(container, modified);
  if (container.config.hostname !== undefined && container.guest.fs.isDir('/etc'))
    container.guest.fs.writeFile('/etc/hostname', `${container.config.hostname}\n`);
}
