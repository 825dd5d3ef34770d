import { SerializedGuest } from '../guest/guest-system';
import { ContainerConfig } from './container-config';

export type ContentType =
  'vztmpl' | 'backup' | 'iso' | 'rootdir' | 'images' | 'snippets' | 'import';

/** What a vzdump archive holds, so that a restore recreates the same container. */
export interface ContainerArchive {
  config: ContainerConfig;
  guest: SerializedGuest;
}

export interface Volume {
  volid: string;
  volname: string;
  content: ContentType;
  format: string;
  size: number;
  ctime: number;
  vmid?: number;
  notes?: string;
  protected?: boolean;
  archive?: ContainerArchive;
}

export interface StorageDefinition {
  id: string;
  type: 'dir' | 'lvmthin';
  content: ContentType[];
  shared: boolean;
  total: number;
  /** Where a `dir` storage keeps its files, for the paths in task logs. */
  path: string | null;
}

/** The default storages of a fresh Proxmox VE installation. */
export const DEFAULT_STORAGES: readonly StorageDefinition[] = [
  {
    id: 'local',
    type: 'dir',
    content: ['backup', 'iso', 'vztmpl'],
    shared: false,
    total: 100 * 1024 ** 3,
    path: '/var/lib/vz',
  },
  {
    id: 'local-lvm',
    type: 'lvmthin',
    content: ['images', 'rootdir'],
    shared: false,
    total: 800 * 1024 ** 3,
    path: null,
  },
];

export const DEFAULT_TEMPLATE = 'debian-12-standard_12.7-1_amd64.tar.zst';

/** One storage as one node sees it (both default storages are node-local). */
export class NodeStorage {
  readonly volumes = new Map<string, Volume>();

  constructor(readonly definition: StorageDefinition) {}

  get id(): string {
    return this.definition.id;
  }

  supports(content: ContentType): boolean {
    return this.definition.content.includes(content);
  }

  contentString(): string {
    return [...this.definition.content].sort().join(',');
  }

  used(): number {
    let total = 0;
    for (const volume of this.volumes.values()) total += volume.size;
    return total;
  }

  add(volume: Volume): void {
    this.volumes.set(volume.volname, volume);
  }

  /** Path of a volume on disk, as vzdump and pveam print it. */
  pathOf(volname: string): string {
    const base = this.definition.path ?? `/dev/pve`;
    if (volname.startsWith('vztmpl/'))
      return `${base}/template/cache/${volname.slice('vztmpl/'.length)}`;
    if (volname.startsWith('backup/')) return `${base}/dump/${volname.slice('backup/'.length)}`;
    return `${base}/${volname}`;
  }
}

export function templateVolume(storage: string, name: string, ctime: number): Volume {
  return {
    volid: `${storage}:vztmpl/${name}`,
    volname: `vztmpl/${name}`,
    content: 'vztmpl',
    format: name.endsWith('.tar.zst') ? 'tzst' : name.endsWith('.tar.gz') ? 'tgz' : 'tar',
    size: 126_418_560,
    ctime,
  };
}
