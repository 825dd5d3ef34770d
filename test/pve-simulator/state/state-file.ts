import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Cluster, SerializedCluster } from './cluster';

interface StateFileContents {
  format: 'pve-simulator-state';
  version: 1;
  savedAt: string;
  cluster: SerializedCluster;
}

const SAVE_DELAY_MS = 200;

/**
 * `--state-file`: the cluster survives a restart. Saves are debounced after
 * changes and written atomically (temporary file, then rename); running tasks
 * and their locks are not kept.
 */
export class StateFile {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly path: string,
    private readonly cluster: Cluster,
  ) {}

  load(): boolean {
    if (!existsSync(this.path)) return false;
    const contents = JSON.parse(readFileSync(this.path, 'utf8')) as StateFileContents;
    if (contents.format !== 'pve-simulator-state' || contents.version !== 1)
      throw new Error(`${this.path} is not a simulator state file`);
    this.cluster.load(contents.cluster);
    return true;
  }

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.save();
    }, SAVE_DELAY_MS);
  }

  save(): void {
    const contents: StateFileContents = {
      format: 'pve-simulator-state',
      version: 1,
      savedAt: new Date().toISOString(),
      cluster: this.cluster.toJSON(),
    };
    const temporary = `${this.path}.tmp-${process.pid}`;
    writeFileSync(temporary, JSON.stringify(contents));
    renameSync(temporary, this.path);
  }

  /** Writes pending changes now and stops the timer (at stop). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.save();
  }
}
