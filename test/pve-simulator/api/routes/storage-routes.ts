import { splitList } from '../schema/named-formats';
import { PveError } from '../../pve/pve-error';
import { parseVolumeId, requireStorage } from '../../pve/volumes';
import { Simulation } from '../../simulation';
import { ClusterNode } from '../../state/cluster';
import { ContentType, NodeStorage, Volume } from '../../state/storage';
import { TaskFailure } from '../../tasks/task-manager';
import { Router } from '../router';

function storageSummary(storage: NodeStorage): Record<string, unknown> {
  const used = storage.used();
  const total = storage.definition.total;
  return {
    storage: storage.id,
    type: storage.definition.type,
    content: storage.contentString(),
    active: 1,
    enabled: 1,
    shared: storage.definition.shared ? 1 : 0,
    total,
    used,
    avail: total - used,
    used_fraction: used / total,
  };
}

function volumeListing(volume: Volume): Record<string, unknown> {
  const item: Record<string, unknown> = {
    volid: volume.volid,
    content: volume.content,
    format: volume.format,
    size: volume.size,
  };
  if (volume.content === 'backup' || volume.content === 'vztmpl' || volume.content === 'iso')
    item.ctime = volume.ctime;
  if (volume.vmid !== undefined) item.vmid = volume.vmid;
  if (volume.content === 'backup') item.subtype = 'lxc';
  if (volume.notes !== undefined) item.notes = volume.notes.split('\n')[0];
  if (volume.protected) item.protected = 1;
  if (volume.content === 'rootdir' || volume.content === 'images')
    item.used = Math.round(volume.size / 10);
  return item;
}

/** The storage's ID for a `volume` path parameter (full volid or name relative to `{storage}`). */
function realVolumeId(
  storageId: string | undefined,
  volume: string,
): { volid: string; storage: string; volname: string } {
  if (volume.includes(':')) {
    const parsed = parseVolumeId(volume);
    if (!parsed) throw PveError.param({ volume: `unable to parse volume ID '${volume}'\n` });
    if (storageId && parsed.storage !== storageId)
      throw PveError.param({ volume: `storage ID mismatch (${parsed.storage} != ${storageId})\n` });
    return { volid: volume, storage: parsed.storage, volname: parsed.volname };
  }
  if (!storageId) throw PveError.param({ volume: 'no storage specified - incomplete volume ID' });
  return { volid: `${storageId}:${volume}`, storage: storageId, volname: volume };
}

export function registerStorageRoutes(router: Router, sim: Simulation): void {
  const nodeOf = (name: string): ClusterNode => sim.cluster.node(name) as ClusterNode;

  router.add('GET', '/nodes/{node}/storage', (req) => {
    const node = nodeOf(req.params.required('node'));
    const content = splitList(req.params.str('content') ?? '') as ContentType[];
    const only = req.params.str('storage');
    return [...node.storages.values()]
      .filter(
        (storage) =>
          (only === undefined || storage.id === only) &&
          (content.length === 0 || content.some((type) => storage.supports(type))),
      )
      .map(storageSummary);
  });

  router.add('GET', '/nodes/{node}/storage/{storage}', () =>
    [
      'status',
      'content',
      'upload',
      'download-url',
      'import-metadata',
      'rrd',
      'rrddata',
      'prunebackups',
      'file-restore',
    ].map((subdir) => ({ subdir })),
  );

  router.add('GET', '/nodes/{node}/storage/{storage}/status', (req) => {
    const storage = requireStorage(
      nodeOf(req.params.required('node')),
      req.params.required('storage'),
    );
    const status = storageSummary(storage);
    delete status.storage;
    return status;
  });

  router.add('GET', '/nodes/{node}/storage/{storage}/content', (req) => {
    const storage = requireStorage(
      nodeOf(req.params.required('node')),
      req.params.required('storage'),
    );
    const content = req.params.str('content');
    const vmid = req.params.int('vmid');
    return [...storage.volumes.values()]
      .filter(
        (volume) =>
          (content === undefined ||
            volume.content === content ||
            (content === 'images' && volume.content === 'rootdir')) &&
          (vmid === undefined || volume.vmid === vmid),
      )
      .sort((a, b) => a.volid.localeCompare(b.volid))
      .map(volumeListing);
  });

  router.add('GET', '/nodes/{node}/storage/{storage}/content/{volume}', (req) => {
    const node = nodeOf(req.params.required('node'));
    const {
      volid,
      storage: storageId,
      volname,
    } = realVolumeId(req.params.str('storage'), req.params.required('volume'));
    const storage = requireStorage(node, storageId);
    const volume = storage.volumes.get(volname);
    if (!volume) throw PveError.die(`volume '${volid}' does not exist`);
    const attributes: Record<string, unknown> = {
      path: storage.pathOf(volname),
      size: volume.size,
      used: volume.size,
      format: volume.format,
    };
    if (volume.notes !== undefined) attributes.notes = volume.notes;
    if (volume.content === 'backup') attributes.protected = volume.protected ? 1 : 0;
    return attributes;
  });

  router.add('DELETE', '/nodes/{node}/storage/{storage}/content/{volume}', async (req) => {
    const node = nodeOf(req.params.required('node'));
    const {
      volid,
      storage: storageId,
      volname,
    } = realVolumeId(req.params.str('storage'), req.params.required('volume'));
    const storage = requireStorage(node, storageId);
    const volume = storage.volumes.get(volname);
    const ownerVmid = volume?.vmid ?? /^backup\/vzdump-\w+-(\d+)-/.exec(volname)?.[1];
    const upid = sim.tasks.spawn({
      node: node.name,
      type: 'imgdel',
      id: ownerVmid === undefined ? storageId : `${ownerVmid}@${storageId}`,
      user: req.principal.userid,
      injectedFailure: req.failTask,
      run: (ctx) => {
        const current = storage.volumes.get(volname);
        if (!current) {
          ctx.warn(`disk image '${storage.pathOf(volname)}' does not exist`);
        } else {
          if (current.protected)
            throw new TaskFailure(`cannot remove protected volume '${volname}' on '${storageId}'`);
          storage.volumes.delete(volname);
          sim.changed();
        }
        ctx.log(`Removed volume '${volid}'`);
      },
    });
    const delay = req.params.int('delay');
    if (delay === undefined) return upid;
    const deadline = sim.now() + delay * 1000;
    for (;;) {
      const task = sim.tasks.get(upid);
      if (!task || task.status === 'stopped') break;
      if (sim.now() >= deadline) return upid;
      await sim.scheduler.delay(Math.min(50, Math.max(1, deadline - sim.now())));
    }
    const status = sim.tasks.get(upid)?.exitstatus ?? 'OK';
    if (status === 'OK' || /^WARNINGS: \d+$/.test(status)) return null;
    throw PveError.die(status);
  });
}
