import { posix } from 'node:path';

/** Errors carry the errno text the real system call would give, for faithful messages. */
export class FsError extends Error {
  constructor(
    readonly code: 'ENOENT' | 'EEXIST' | 'ENOTDIR' | 'EISDIR' | 'ENOTEMPTY',
    readonly path: string,
  ) {
    super(FS_ERROR_TEXT[code]);
  }
}

const FS_ERROR_TEXT: Record<FsError['code'], string> = {
  ENOENT: 'No such file or directory',
  EEXIST: 'File exists',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  ENOTEMPTY: 'Directory not empty',
};

interface FileEntry {
  kind: 'file';
  data: Buffer;
  mode: number;
}
interface DirEntry {
  kind: 'dir';
  mode: number;
}
type Entry = FileEntry | DirEntry;

export interface SerializedFs {
  dirs: string[];
  files: Record<string, { data: string; mode: number }>;
}

/**
 * A small in-memory file system: what a container or a node holds on disk,
 * as far as the commands the simulator understands can see it.
 */
export class VirtualFs {
  private readonly entries = new Map<string, Entry>([['/', { kind: 'dir', mode: 0o755 }]]);

  static withDirectories(dirs: readonly string[]): VirtualFs {
    const fs = new VirtualFs();
    for (const dir of dirs) fs.mkdir(dir, { parents: true });
    return fs;
  }

  static resolve(cwd: string, path: string): string {
    return posix.resolve(cwd, path);
  }

  stat(path: string): { kind: 'file' | 'dir'; size: number; mode: number } | undefined {
    const entry = this.entries.get(posix.resolve('/', path));
    if (!entry) return undefined;
    return {
      kind: entry.kind,
      size: entry.kind === 'file' ? entry.data.length : 4096,
      mode: entry.mode,
    };
  }

  isDir(path: string): boolean {
    return this.stat(path)?.kind === 'dir';
  }

  isFile(path: string): boolean {
    return this.stat(path)?.kind === 'file';
  }

  readFile(path: string): Buffer {
    const full = posix.resolve('/', path);
    const entry = this.entries.get(full);
    if (!entry) throw new FsError('ENOENT', full);
    if (entry.kind === 'dir') throw new FsError('EISDIR', full);
    return entry.data;
  }

  writeFile(
    path: string,
    data: Buffer | string,
    options: { append?: boolean; mode?: number } = {},
  ): void {
    const full = posix.resolve('/', path);
    this.requireParentDir(full);
    const existing = this.entries.get(full);
    if (existing?.kind === 'dir') throw new FsError('EISDIR', full);
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (existing && options.append) {
      existing.data = Buffer.concat([existing.data, bytes]);
      if (options.mode !== undefined) existing.mode = options.mode;
      return;
    }
    this.entries.set(full, {
      kind: 'file',
      data: Buffer.from(bytes),
      mode: options.mode ?? existing?.mode ?? 0o644,
    });
  }

  chmod(path: string, mode: number): void {
    const full = posix.resolve('/', path);
    const entry = this.entries.get(full);
    if (!entry) throw new FsError('ENOENT', full);
    entry.mode = mode;
  }

  mkdir(path: string, options: { parents?: boolean; mode?: number } = {}): void {
    const full = posix.resolve('/', path);
    const existing = this.entries.get(full);
    if (existing) {
      if (existing.kind === 'dir' && options.parents) return;
      throw new FsError(
        existing.kind === 'dir' ? 'EEXIST' : options.parents ? 'ENOTDIR' : 'EEXIST',
        full,
      );
    }
    const parent = posix.dirname(full);
    if (options.parents) this.mkdir(parent, { parents: true });
    else this.requireParentDir(full);
    this.entries.set(full, { kind: 'dir', mode: options.mode ?? 0o755 });
  }

  /** Children names of a directory, sorted. */
  list(path: string): string[] {
    const full = posix.resolve('/', path);
    const entry = this.entries.get(full);
    if (!entry) throw new FsError('ENOENT', full);
    if (entry.kind !== 'dir') throw new FsError('ENOTDIR', full);
    const prefix = full === '/' ? '/' : `${full}/`;
    const names: string[] = [];
    for (const key of this.entries.keys()) {
      if (key !== full && key.startsWith(prefix) && !key.slice(prefix.length).includes('/')) {
        names.push(key.slice(prefix.length));
      }
    }
    return names.sort();
  }

  remove(path: string, options: { recursive?: boolean } = {}): void {
    const full = posix.resolve('/', path);
    const entry = this.entries.get(full);
    if (!entry) throw new FsError('ENOENT', full);
    if (entry.kind === 'dir') {
      const children = this.list(full);
      if (children.length > 0 && !options.recursive) throw new FsError('ENOTEMPTY', full);
      if (full === '/') throw new FsError('EISDIR', full);
      const prefix = `${full}/`;
      for (const key of [...this.entries.keys()])
        if (key.startsWith(prefix)) this.entries.delete(key);
    }
    this.entries.delete(full);
  }

  rename(from: string, to: string): void {
    const source = posix.resolve('/', from);
    let target = posix.resolve('/', to);
    const entry = this.entries.get(source);
    if (!entry) throw new FsError('ENOENT', source);
    if (this.entries.get(target)?.kind === 'dir')
      target = posix.join(target, posix.basename(source));
    this.requireParentDir(target);
    if (entry.kind === 'file') {
      this.entries.delete(source);
      this.entries.set(target, entry);
      return;
    }
    const prefix = `${source}/`;
    for (const [key, value] of [...this.entries]) {
      if (key === source || key.startsWith(prefix)) {
        this.entries.delete(key);
        this.entries.set(target + key.slice(source.length), value);
      }
    }
  }

  /** Total bytes of file content, to give backups and disks a plausible size. */
  usedBytes(): number {
    let total = 0;
    for (const entry of this.entries.values())
      if (entry.kind === 'file') total += entry.data.length;
    return total;
  }

  clone(): VirtualFs {
    const copy = new VirtualFs();
    copy.entries.clear();
    for (const [key, entry] of this.entries) {
      copy.entries.set(
        key,
        entry.kind === 'file' ? { ...entry, data: Buffer.from(entry.data) } : { ...entry },
      );
    }
    return copy;
  }

  toJSON(): SerializedFs {
    const dirs: string[] = [];
    const files: SerializedFs['files'] = {};
    for (const [key, entry] of this.entries) {
      if (entry.kind === 'dir') dirs.push(key);
      else files[key] = { data: entry.data.toString('base64'), mode: entry.mode };
    }
    return { dirs, files };
  }

  static fromJSON(serialized: SerializedFs): VirtualFs {
    const fs = new VirtualFs();
    for (const dir of serialized.dirs) fs.mkdir(dir, { parents: true });
    for (const [path, file] of Object.entries(serialized.files)) {
      fs.mkdir(posix.dirname(path), { parents: true });
      fs.writeFile(path, Buffer.from(file.data, 'base64'), { mode: file.mode });
    }
    return fs;
  }

  private requireParentDir(full: string): void {
    const parent = this.entries.get(posix.dirname(full));
    if (!parent) throw new FsError('ENOENT', full);
    if (parent.kind !== 'dir') throw new FsError('ENOTDIR', full);
  }
}
