import { Injectable } from '@nestjs/common';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { AppConfig } from '../config/app-config';
import type { CatalogApp } from './catalog-app';
import { validateCatalogApp } from './catalog-app.schema';

/** A file that was skipped, and why. `file` is the bare file name, never a path. */
export interface CatalogLoadError {
  readonly file: string;
  readonly message: string;
}

export interface CatalogLoadResult {
  /** Sorted by name (case-insensitively), then id. */
  readonly apps: readonly CatalogApp[];
  /** Sorted by file name. */
  readonly errors: readonly CatalogLoadError[];
}

export type CatalogSourceFile =
  | { readonly name: string; readonly content: string }
  | { readonly name: string; readonly error: string };

export const MAX_FILE_BYTES = 256 * 1024;
const MAX_FILES = 2000;
const MAX_PROBLEMS_PER_FILE = 10;
const CATALOG_FILE = /\.ya?ml$/;
/** The directory itself could not be read: reported under this name. */
export const DIRECTORY_ENTRY = '.';

/**
 * Reads every `*.yaml` / `*.yml` file of a directory. Never throws: a
 * missing directory or an unreadable file becomes an error entry, so a
 * process with a broken catalog still starts and serves what is valid.
 */
export async function readCatalogDirectory(dir: string): Promise<CatalogSourceFile[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [{ name: DIRECTORY_ENTRY, error: 'the catalog directory cannot be read' }];
  }
  // Hidden entries are skipped: Kubernetes ConfigMap volumes keep their
  // internals in `..data` directories beside the (symlinked) files.
  const candidates = names.filter((n) => CATALOG_FILE.test(n) && !n.startsWith('.')).sort();
  const files: CatalogSourceFile[] = [];
  for (const name of candidates.slice(0, MAX_FILES)) files.push(await readSourceFile(dir, name));
  for (const name of candidates.slice(MAX_FILES)) {
    files.push({ name, error: `skipped: a catalog holds at most ${MAX_FILES} files` });
  }
  return files;
}

async function readSourceFile(dir: string, name: string): Promise<CatalogSourceFile> {
  const path = join(dir, name);
  let bytes: Buffer;
  try {
    // stat follows symlinks (ConfigMap files are symlinks); FIFOs and
    // devices are refused so a read can never block the loader.
    const info = await stat(path);
    if (!info.isFile()) return { name, error: 'is not a regular file' };
    if (info.size > MAX_FILE_BYTES) {
      return { name, error: `is larger than ${MAX_FILE_BYTES / 1024} KiB` };
    }
    bytes = await readFile(path);
  } catch {
    return { name, error: 'cannot be read' };
  }
  try {
    return { name, content: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { name, error: 'is not valid UTF-8' };
  }
}

/** Parses and validates files already in memory; cross-checks ids between files. */
export function parseCatalogFiles(files: readonly CatalogSourceFile[]): CatalogLoadResult {
  const errors: CatalogLoadError[] = [];
  const parsed: { file: string; app: CatalogApp }[] = [];
  for (const file of files) {
    if ('error' in file) {
      errors.push({ file: file.name, message: file.error });
      continue;
    }
    const outcome = parseCatalogFile(file.name, file.content);
    if ('app' in outcome) parsed.push({ file: file.name, app: outcome.app });
    else errors.push({ file: file.name, message: outcome.error });
  }
  const byId = new Map<string, string[]>();
  for (const { file, app } of parsed) byId.set(app.id, [...(byId.get(app.id) ?? []), file]);
  const apps: CatalogApp[] = [];
  for (const { file, app } of parsed) {
    const claimants = byId.get(app.id) ?? [];
    if (claimants.length > 1) {
      // No winner: which of two files is "the" app would depend on file order.
      const others = claimants.filter((f) => f !== file).join(', ');
      errors.push({ file, message: `duplicate id "${app.id}" (also in ${others})` });
    } else {
      apps.push(app);
    }
  }
  apps.sort(compareApps);
  errors.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { apps, errors };
}

export function compareApps(a: CatalogApp, b: CatalogApp): number {
  const byName = a.name.localeCompare(b.name, 'en', { sensitivity: 'base' });
  return byName !== 0 ? byName : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

function parseCatalogFile(name: string, content: string): { app: CatalogApp } | { error: string } {
  // YAML 1.2 core schema: no `yes`/`no` booleans, no sexagesimal numbers;
  // duplicate keys and unknown tags are errors, not silent surprises.
  const document = parseDocument(content, { schema: 'core', uniqueKeys: true, prettyErrors: true });
  const problem = document.errors[0] ?? document.warnings[0];
  if (problem) {
    const line = problem.linePos?.[0]?.line;
    const text = problem.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    return { error: `invalid YAML${line === undefined ? '' : ` at line ${line}`}: ${text}` };
  }
  let data: unknown;
  try {
    // A small alias budget: a "billion laughs" file must not exhaust memory.
    data = document.toJS({ maxAliasCount: 100 });
  } catch {
    return { error: 'invalid YAML: too many aliases' };
  }
  const result = validateCatalogApp(data);
  if (!result.ok) {
    const shown = result.problems.slice(0, MAX_PROBLEMS_PER_FILE);
    const more = result.problems.length - shown.length;
    return { error: shown.join('; ') + (more > 0 ? `; and ${more} more` : '') };
  }
  const expected = [`${result.app.id}.yaml`, `${result.app.id}.yml`];
  if (!expected.includes(name)) {
    return { error: `the file name must be "${result.app.id}.yaml" (the app's id)` };
  }
  return { app: result.app };
}

/** The loader as an injectable, so the reload logic can be tested with a fake one. */
@Injectable()
export class CatalogLoader {
  constructor(private readonly config: AppConfig) {}

  async load(): Promise<CatalogLoadResult> {
    return parseCatalogFiles(await readCatalogDirectory(this.config.catalogDir));
  }
}
