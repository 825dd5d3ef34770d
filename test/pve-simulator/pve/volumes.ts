import { ClusterNode } from '../state/cluster';
import { Container } from '../state/container';
import { formatSize, parseMountPoint, parseSizeBytes } from '../state/container-config';
import { ContentType, NodeStorage, Volume } from '../state/storage';
import { PveError } from './pve-error';

const VOLID = /^([a-z][a-z0-9\-_.]*[a-z0-9]):(.+)$/i;
/** `STORAGE:SIZE_IN_GiB` (or just a size) asks for a new volume. */
export const NEW_DISK = /^(?:([^/:\s]+):)?(\d+(\.\d+)?)$/;

export function parseVolumeId(volid: string): { storage: string; volname: string } | null {
  const match = VOLID.exec(volid);
  return match ? { storage: match[1], volname: match[2] } : null;
}

/** storage_config / storage_check_enabled. */
export function requireStorage(node: ClusterNode, storageId: string): NodeStorage {
  const storage = node.storages.get(storageId);
  if (!storage) throw PveError.die(`storage '${storageId}' does not exist`);
  return storage;
}

/** parse_volname's volume type for the volumes the simulator knows. */
export function volumeType(storage: NodeStorage, volname: string): ContentType {
  if (storage.definition.type === 'dir') {
    const match = /^(vztmpl|backup|iso|snippets|images|rootdir|import)\//.exec(volname);
    if (!match) throw PveError.die(`unable to parse directory volume name '${volname}'`);
    return match[1] as ContentType;
  }
  if (!/^(vm|base)-\d+-disk-\d+$/.test(volname))
    throw PveError.die(`unable to parse lvm volume name '${volname}'`);
  return 'images';
}

/** A new container volume, `vm-<vmid>-disk-<n>`, like create_disks/alloc_image. */
export function allocateDisk(
  storage: NodeStorage,
  vmid: number,
  sizeGiB: number,
  now: number,
): Volume {
  let index = 0;
  while (storage.volumes.has(`vm-${vmid}-disk-${index}`)) index++;
  const volname = `vm-${vmid}-disk-${index}`;
  const volume: Volume = {
    volid: `${storage.id}:${volname}`,
    volname,
    content: 'rootdir',
    format: 'raw',
    size: parseSizeBytes(String(sizeGiB), 'G'),
    ctime: Math.floor(now / 1000),
    vmid,
  };
  storage.add(volume);
  return volume;
}

export function rootfsValue(volume: Volume): string {
  return `${volume.volid},size=${formatSize(volume.size)}`;
}

/** The volumes a container's config references (rootfs and mount points). */
export function containerVolumes(container: Container): string[] {
  const volids: string[] = [];
  for (const [key, value] of Object.entries(container.config)) {
    if (key !== 'rootfs' && !/^mp\d+$/.test(key) && !/^unused\d+$/.test(key)) continue;
    try {
      const volume = key.startsWith('unused')
        ? value
        : parseMountPoint(key === 'rootfs' ? 'rootfs' : 'mp0', value).volume;
      if (parseVolumeId(volume)) volids.push(volume);
    } catch {
      continue;
    }
  }
  return volids;
}

export function freeVolumes(node: ClusterNode, volids: string[]): void {
  for (const volid of volids) {
    const parsed = parseVolumeId(volid);
    if (parsed) node.storages.get(parsed.storage)?.volumes.delete(parsed.volname);
  }
}
