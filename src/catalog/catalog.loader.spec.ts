import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_FILE_BYTES, parseCatalogFiles, readCatalogDirectory } from './catalog.loader';

/** A minimal valid file; `extra` lines are appended to the service, `top` to the document. */
function appYaml(
  id: string,
  options: { name?: string; image?: string; top?: string } = {},
): string {
  return `id: ${id}
name: ${options.name ?? id}
version: 1.0.0
description: The ${id} app.
category: tools
tags: [demo]
icon: https://example.com/${id}.png
website: https://example.com/${id}
minCores: 1
minMemoryMb: 128
minDiskGb: 1
ports:
  - name: web
    containerPort: 80
    protocol: tcp
env:
  - name: GREETING
    description: What the app says.
    default: hello
compose:
  services:
    app:
      image: ${options.image ?? 'traefik/whoami:v1.10.3'}
      restart: unless-stopped
      environment:
        WHOAMI_NAME: \${GREETING}
      ports:
        - '80:80'
${options.top ?? ''}`;
}

async function loadDirectory(files: Record<string, string | Buffer>) {
  const dir = await mkdtemp(join(tmpdir(), 'catalog-'));
  try {
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    return parseCatalogFiles(await readCatalogDirectory(dir));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('catalog loader', () => {
  it('loads valid files sorted by name and ignores other files', async () => {
    const result = await loadDirectory({
      'zeta.yaml': appYaml('zeta', { name: 'alpha' }),
      'beta.yml': appYaml('beta', { name: 'Beta' }),
      'README.md': '# not an app',
      '.hidden.yaml': 'not: [valid',
    });
    expect(result.errors).toEqual([]);
    expect(result.apps.map((a) => a.id)).toEqual(['zeta', 'beta']);
  });

  it('reports each bad file with its name and reason, skips it and keeps the valid ones', async () => {
    const result = await loadDirectory({
      'good.yaml': appYaml('good'),
      'broken.yaml': 'id: broken\nname: [unclosed\n',
      'empty.yaml': '',
      'list.yaml': '- a\n- b\n',
      'missing.yaml': appYaml('missing').replace(/^name: .*\n/m, ''),
      'latest.yaml': appYaml('latest', { image: 'traefik/whoami:latest' }),
      'untagged.yaml': appYaml('untagged', { image: 'traefik/whoami' }),
      'undeclared.yaml': appYaml('undeclared').replace('${GREETING}', '${SOMETHING_ELSE}'),
      'clash.yaml': appYaml('clash').replace("- '80:80'", "- '80:80'\n        - '80:81'"),
      'dupkey.yaml': `${appYaml('dupkey')}name: again\n`,
      'wrong-name.yaml': appYaml('other-id'),
      'twice.yaml': appYaml('twice'),
      'twice.yml': appYaml('twice'),
      'multi.yaml': `${appYaml('multi')}---\nid: second\n`,
      'tagged.yaml': `${appYaml('tagged')}extra: !custom value\n`,
      'binary.yaml': Buffer.from([0x69, 0x64, 0x3a, 0x20, 0xff, 0xfe, 0x0a]),
    });
    expect(result.apps.map((a) => a.id)).toEqual(['good']);
    const byFile = Object.fromEntries(result.errors.map((e) => [e.file, e.message]));
    expect(Object.keys(byFile).sort()).toEqual(
      [
        'binary.yaml',
        'broken.yaml',
        'clash.yaml',
        'dupkey.yaml',
        'empty.yaml',
        'latest.yaml',
        'list.yaml',
        'missing.yaml',
        'multi.yaml',
        'tagged.yaml',
        'twice.yaml',
        'twice.yml',
        'undeclared.yaml',
        'untagged.yaml',
        'wrong-name.yaml',
      ].sort(),
    );
    expect(byFile['broken.yaml']).toMatch(/^invalid YAML at line \d+: /);
    expect(byFile['empty.yaml']).toBe('the document must be a mapping of fields');
    expect(byFile['list.yaml']).toBe('the document must be a mapping of fields');
    expect(byFile['missing.yaml']).toBe('name: is required');
    expect(byFile['latest.yaml']).toBe(
      'compose.services.app.image: must not use the "latest" tag: pin a version',
    );
    expect(byFile['untagged.yaml']).toMatch(/image: must be pinned/);
    expect(byFile['undeclared.yaml']).toContain(
      'compose.services.app.environment.WHOAMI_NAME: references undeclared variable ${SOMETHING_ELSE}',
    );
    expect(byFile['clash.yaml']).toContain('port clash');
    expect(byFile['dupkey.yaml']).toMatch(/^invalid YAML at line \d+: Map keys must be unique/);
    expect(byFile['wrong-name.yaml']).toBe('the file name must be "other-id.yaml" (the app\'s id)');
    expect(byFile['twice.yaml']).toBe('duplicate id "twice" (also in twice.yml)');
    expect(byFile['twice.yml']).toBe('duplicate id "twice" (also in twice.yaml)');
    expect(byFile['multi.yaml']).toMatch(/^invalid YAML.*multiple documents/);
    expect(byFile['tagged.yaml']).toMatch(/^invalid YAML at line \d+: Unresolved tag/);
    expect(byFile['binary.yaml']).toBe('is not valid UTF-8');
    // File names only: an error never reveals where the catalog lives on disk.
    expect(JSON.stringify(result.errors)).not.toContain(tmpdir());
  });

  it('refuses oversized files, directories named like files and alias bombs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'catalog-'));
    try {
      await writeFile(join(dir, 'big.yaml'), `# ${'x'.repeat(MAX_FILE_BYTES)}\n`);
      await mkdir(join(dir, 'folder.yaml'));
      // "Billion laughs": each level references the previous one ten times.
      const levels = 'abcdefgh'.split('');
      const bomb = levels.map((name, i) =>
        i === 0
          ? `a: &a [${Array(10).fill('x').join(', ')}]`
          : `${name}: &${name} [${Array(10)
              .fill(`*${levels[i - 1]}`)
              .join(', ')}]`,
      );
      await writeFile(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\n`);
      await writeFile(join(dir, 'real.txt'), appYaml('linked'));
      await symlink(join(dir, 'real.txt'), join(dir, 'linked.yaml'));
      const result = parseCatalogFiles(await readCatalogDirectory(dir));
      expect(result.errors).toEqual([
        { file: 'big.yaml', message: 'is larger than 256 KiB' },
        { file: 'bomb.yaml', message: 'invalid YAML: too many aliases' },
        { file: 'folder.yaml', message: 'is not a regular file' },
      ]);
      // Symlinked files are followed: that is how Kubernetes mounts a ConfigMap.
      expect(result.apps.map((a) => a.id)).toEqual(['linked']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reports a missing directory instead of throwing', async () => {
    const result = parseCatalogFiles(
      await readCatalogDirectory(join(tmpdir(), 'no-such-catalog-dir-0f9a')),
    );
    expect(result).toEqual({
      apps: [],
      errors: [{ file: '.', message: 'the catalog directory cannot be read' }],
    });
  });
});
