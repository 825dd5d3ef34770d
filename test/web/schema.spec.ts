import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const COMMITTED = 'web/src/lib/api/schema.d.ts';

/** The UI's client types come from openapi.json: a contract change must reach them in the same commit. */
describe('the web UI’s generated API schema', () => {
  it(`${COMMITTED} matches openapi.json (run npm run web:gen)`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'web-schema-'));
    try {
      const fresh = join(dir, 'schema.d.ts');
      execFileSync('npx', ['openapi-typescript', 'openapi.json', '-o', fresh], { stdio: 'pipe' });
      // Formatted as if it were the committed file, so the repository's Prettier options apply.
      const formatted = execFileSync('npx', ['prettier', '--stdin-filepath', COMMITTED], {
        input: readFileSync(fresh),
        stdio: 'pipe',
      }).toString();
      expect(formatted).toBe(readFileSync(COMMITTED, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
