import { parseTemplate, referencedNames } from './template-string';

describe('template strings', () => {
  it('splits text and ${NAME} references; $$ is a literal dollar', () => {
    const parsed = parseTemplate('postgres://u:${DB_PASSWORD}@db/$$x${A}${A}');
    expect(parsed).toEqual({
      ok: true,
      parts: [
        { kind: 'text', text: 'postgres://u:' },
        { kind: 'variable', name: 'DB_PASSWORD' },
        { kind: 'text', text: '@db/$x' },
        { kind: 'variable', name: 'A' },
        { kind: 'variable', name: 'A' },
      ],
    });
    expect(parsed.ok && referencedNames(parsed.parts)).toEqual(['DB_PASSWORD', 'A']);
  });

  it('accepts text without any dollar', () => {
    expect(parseTemplate('plain')).toEqual({ ok: true, parts: [{ kind: 'text', text: 'plain' }] });
    expect(parseTemplate('')).toEqual({ ok: true, parts: [] });
  });

  it.each(['$HOME', '${lower}', '${A:-x}', '${A:?err}', '${A-x}', 'cost: 5$', '${}', '${A'])(
    'refuses %s: compose would interpolate it on its own',
    (template) => {
      expect(parseTemplate(template)).toMatchObject({ ok: false, error: expect.any(String) });
    },
  );
});
