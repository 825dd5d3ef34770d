import { join } from 'node:path';
import { parse } from 'yaml';
import {
  interpolate,
  parseComposeFile,
  parseEnvFile,
} from '../../test/pve-simulator/guest/compose-file';
import { DomainError } from '../common/errors/domain-error';
import { parseCatalogFiles, readCatalogDirectory, type CatalogLoadResult } from './catalog.loader';
import type { CatalogApp } from './catalog-app';
import { renderDeployment } from './compose-renderer';
import { generateSecrets } from './secret-generator';

const CATALOG_DIR = join(__dirname, '..', '..', 'catalog');

/** What a user must type at deploy time: required, no default, nothing generated. */
function demanded(app: CatalogApp): string[] {
  return app.env
    .filter((v) => v.required && v.default === undefined && !v.generate)
    .map((v) => v.name);
}

describe('the shipped catalog', () => {
  let result: CatalogLoadResult;

  beforeAll(async () => {
    result = parseCatalogFiles(await readCatalogDirectory(CATALOG_DIR));
  });

  it('loads every file with zero errors', () => {
    expect(result.errors).toEqual([]);
  });

  it('has at least 30 apps, among them the demo app', () => {
    expect(result.apps.length).toBeGreaterThanOrEqual(30);
    expect(result.apps.map((a) => a.id)).toContain('whoami');
  });

  it('pins every image and gives every service a restart policy', () => {
    for (const app of result.apps) {
      for (const [name, service] of Object.entries(app.compose.services)) {
        const where = `${app.id}/${name}`;
        expect({ where, image: service.image }).toEqual({
          where,
          image: expect.stringMatching(/(:[\w][\w.-]*|@sha256:[a-f0-9]{64})$/),
        });
        expect({ where, latest: /:latest$/i.test(service.image) }).toEqual({
          where,
          latest: false,
        });
        expect({ where, restart: service.restart }).toEqual({ where, restart: expect.any(String) });
      }
    }
  });

  it('has no plaintext default for any secret', () => {
    for (const app of result.apps) {
      for (const variable of app.env.filter((v) => v.secret)) {
        const where = `${app.id}/${variable.name}`;
        expect({ where, default: variable.default }).toEqual({ where });
      }
    }
  });

  it('generates or demands every required variable: rendering without a demanded one is a 400', () => {
    for (const app of result.apps) {
      const generated = generateSecrets(app);
      for (const variable of app.env.filter((v) => v.required && v.default === undefined)) {
        expect(variable.generate !== undefined || demanded(app).includes(variable.name)).toBe(true);
      }
      for (const name of demanded(app)) {
        const others = Object.fromEntries(
          demanded(app)
            .filter((n) => n !== name)
            .map((n) => [n, 'x']),
        );
        let fields: string[] = [];
        try {
          renderDeployment(app, others, generated);
        } catch (err) {
          fields = err instanceof DomainError ? (err.details ?? []).map((d) => d.field) : [];
        }
        expect({ app: app.id, fields }).toEqual({ app: app.id, fields: [`environment.${name}`] });
      }
    }
  });

  it('renders every app to a valid compose document whose values arrive literally', () => {
    for (const app of result.apps) {
      const userEnv = Object.fromEntries(demanded(app).map((name) => [name, `v-${name}-$x`]));
      const generated = generateSecrets(app);
      const { composeYaml, envFile } = renderDeployment(app, userEnv, generated);

      const env = parseEnvFile(envFile);
      expect(env).toEqual({ COMPOSE_PROJECT_NAME: app.id });
      const model = parseComposeFile(composeYaml, env);
      expect(model.warnings).toEqual([]);
      expect(model.services.map((s) => s.name)).toEqual(Object.keys(app.compose.services));
      const published = model.services
        .flatMap((s) => s.ports)
        .map((p) => `${p.published?.from}/${p.protocol}`)
        .sort();
      expect(published).toEqual(app.ports.map((p) => `${p.containerPort}/${p.protocol}`).sort());

      // After compose's interpolation nothing of `${…}` is left to expand, and
      // every generated secret and demanded value is in the file, unchanged.
      const document = parse(composeYaml) as {
        services: Record<string, { environment?: Record<string, string> }>;
      };
      const values = Object.values(document.services).flatMap((s) =>
        Object.values(s.environment ?? {}).map((v) => interpolate(v, {}, [])),
      );
      for (const value of [...Object.values(generated), ...Object.values(userEnv)]) {
        expect({ app: app.id, found: values.some((v) => v.includes(value)) }).toEqual({
          app: app.id,
          found: true,
        });
      }
      expect(values.join('\n')).not.toMatch(/\$\{[A-Z_]+\}/);
      // In the file itself every dollar is doubled: compose has nothing to expand.
      expect(composeYaml).not.toMatch(/(^|[^$])(\$\$)*\$\{/);
    }
  });
});
