import type { CatalogApp } from './catalog-app';
import { generateSecret, generateSecrets, PASSWORD_LENGTH } from './secret-generator';

describe('secret generation', () => {
  it.each([
    ['password', new RegExp(`^[A-Za-z0-9]{${PASSWORD_LENGTH}}$`)],
    ['hex32', /^[0-9a-f]{64}$/],
    ['uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
  ] as const)('%s has the documented format and never repeats', (kind, format) => {
    const values = Array.from({ length: 200 }, () => generateSecret(kind));
    for (const value of values) expect(value).toMatch(format);
    expect(new Set(values).size).toBe(values.length);
  });

  it('passwords use the whole alphabet (no bias towards a few characters)', () => {
    const seen = new Set(Array.from({ length: 200 }, () => generateSecret('password')).join(''));
    expect(seen.size).toBe(62);
  });

  it('generates a value for every generated variable, and only for those', () => {
    const app = {
      env: [
        { name: 'A', description: '', required: true, secret: true, generate: 'password' },
        { name: 'B', description: '', required: false, secret: false, default: 'x' },
        { name: 'C', description: '', required: true, secret: true, generate: 'uuid' },
      ],
    } as unknown as CatalogApp;
    const values = generateSecrets(app);
    expect(Object.keys(values)).toEqual(['A', 'C']);
    expect(generateSecrets(app).A).not.toBe(values.A);
  });
});
