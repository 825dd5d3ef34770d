import { Container } from '../state/container';
import { ContainerConfig, typedValue } from '../state/container-config';
import { HashOrder } from '../util/hash-order';

/**
 * pve-container's $LXC_FASTPLUG_OPTIONS: copied into the running config with
 * no cgroup or network work at all.
 */
const FASTPLUG_OPTIONS = new Set([
  'description',
  'onboot',
  'startup',
  'protection',
  'hostname',
  'hookscript',
  'cores',
  'tags',
  'lock',
]);

/**
 * vmconfig_hotplug_pending's add/change branch: fast-plug options, cgroup
 * limits, network interfaces, and mount points or devices that do not exist
 * yet (an existing one is never hot-plugged over).
 */
function hotplugsValue(option: string, config: ContainerConfig): boolean {
  if (FASTPLUG_OPTIONS.has(option)) return true;
  if (['cpulimit', 'cpuunits', 'memory', 'swap'].includes(option)) return true;
  if (/^net\d+$/.test(option)) return true;
  return /^(mp|dev)\d+$/.test(option) && config[option] === undefined;
}

/**
 * vmconfig_hotplug_pending's delete branch. Its network pattern is `net(\d)`,
 * a single digit: deleting net10 from a running container stays pending.
 */
function hotplugsDeletion(option: string): boolean {
  if (FASTPLUG_OPTIONS.has(option)) return true;
  if (['swap', 'cpulimit', 'cpuunits'].includes(option)) return true;
  return /^unused\d+$/.test(option) || /^net\d$/.test(option);
}

/** Applies the pending values and deletions of `selection` that `accepts` lets through. */
function applySelected(
  container: Container,
  selection: ReadonlySet<string> | null,
  acceptsValue: (option: string) => boolean,
  acceptsDeletion: (option: string) => boolean,
): void {
  const { pending } = container;
  const chosen = (option: string): boolean => selection === null || selection.has(option);
  const config = { ...container.config };
  const kept: string[] = [];
  for (const option of pending.delete) {
    if (chosen(option) && acceptsDeletion(option)) delete config[option];
    else kept.push(option);
  }
  const values: ContainerConfig = {};
  for (const option of Object.keys(pending.values).sort()) {
    if (chosen(option) && acceptsValue(option)) config[option] = pending.values[option];
    else values[option] = pending.values[option];
  }
  container.config = config;
  container.pending = { values, delete: kept };
}

/**
 * vmconfig_hotplug_pending: on a running container, the options this update
 * touched (`selection`) apply at once when they can be hot-plugged; the rest
 * stays pending until the container stops.
 */
export function hotplugPending(container: Container, selection: ReadonlySet<string>): void {
  const before = { ...container.config };
  applySelected(container, selection, (option) => hotplugsValue(option, before), hotplugsDeletion);
}

/**
 * vmconfig_apply_pending: everything pending (or only `selection`) applies.
 * Proxmox runs it on a config update of a stopped container, at start
 * (vm_start) and when the container stops (lxc-pve-poststop-hook).
 */
export function applyPending(
  container: Container,
  selection: ReadonlySet<string> | null = null,
): void {
  applySelected(
    container,
    selection,
    () => true,
    () => true,
  );
}

/**
 * AbstractConfig->cleanup_pending: a pending value equal to the current one is
 * dropped, and so is a pending delete of an option that is not set.
 */
export function cleanupPending(container: Container): void {
  const { config, pending } = container;
  const values: ContainerConfig = {};
  for (const [option, value] of Object.entries(pending.values))
    if (config[option] !== value) values[option] = value;
  container.pending = {
    values,
    delete: pending.delete.filter((option) => config[option] !== undefined),
  };
}

/** AbstractConfig->load_current_config without `current`: pending values taken in. */
export function configWithPending(container: Container): ContainerConfig {
  const config = { ...container.config, ...container.pending.values };
  for (const option of container.pending.delete) delete config[option];
  return config;
}

export interface PendingEntry {
  key: string;
  value?: string | number;
  pending?: string | number;
  delete?: number;
}

/**
 * GET …/pending, as pve-guest-common's config_with_pending_array builds it:
 * every key of the loaded config (`digest`, `lock` and `parent` included) with
 * its pending value or delete flag, then the keys only the pending section
 * has, each group in Perl hash order.
 */
export function pendingEntries(
  container: Container,
  current: Record<string, string>,
  order: HashOrder,
): PendingEntry[] {
  const { values, delete: deleted } = container.pending;
  const entries: PendingEntry[] = [];
  for (const key of order.sort(Object.keys(current), (k) => k)) {
    const entry: PendingEntry = { key, value: typedValue(key, current[key]) };
    if (values[key] !== undefined) entry.pending = typedValue(key, values[key]);
    if (deleted.includes(key)) entry.delete = 1;
    entries.push(entry);
  }
  const pendingOnly = Object.keys(values).filter((key) => current[key] === undefined);
  for (const key of order.sort(pendingOnly, (k) => k))
    entries.push({ key, pending: typedValue(key, values[key]) });
  return entries;
}
