import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');
const SKIPPED = new Set(['node_modules', '.git', 'dist', 'coverage', '.proximity']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

/** Link targets of `[text](target)`, without their `#anchor`; remote and in-page links left out. */
function localLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map(([, target]) => target.split('#')[0])
    .filter((target) => target !== '' && !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('documentation in a fresh clone', () => {
  const files = markdownFiles(ROOT);

  it('finds the documents it checks', () => {
    const names = files.map((file) => relative(ROOT, file));
    expect(names).toEqual(
      expect.arrayContaining(['README.md', 'docs/architecture.md', 'docs/api.md']),
    );
  });

  it.each(files.map((file) => [relative(ROOT, file), file]))(
    '%s links only to files inside the repository',
    (_name, file) => {
      const text = readFileSync(file, 'utf8');
      const broken = localLinks(text).filter((target) => {
        const path = resolve(dirname(file), target);
        return relative(ROOT, path).startsWith('..') || !existsSync(path);
      });
      expect(broken).toEqual([]);
      // Documents of the team's workspace are not part of a clone.
      expect(text).not.toMatch(/\.\.\/shared\/|shared\/reference\//);
    },
  );
});
