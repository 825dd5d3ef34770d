/**
 * The one interpolation syntax of catalog templates: `${NAME}` references a
 * declared variable, `$$` is a literal `$`. Every other `$` is refused, so a
 * template never holds an expression that compose would evaluate on its own
 * (`$NAME`, `${NAME:-default}`, `${NAME:?err}`).
 */

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'variable'; readonly name: string };

export type ParsedTemplate =
  | { readonly ok: true; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly error: string };

const TOKEN = /\$(\$|\{([A-Z_][A-Z0-9_]*)\})?/g;

export function parseTemplate(template: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let text = '';
  let last = 0;
  for (const match of template.matchAll(TOKEN)) {
    const index = match.index;
    text += template.slice(last, index);
    last = index + match[0].length;
    if (match[1] === '$') {
      text += '$';
      continue;
    }
    const name = match[2];
    if (name === undefined) {
      return {
        ok: false,
        error: `a "$" at offset ${index} is neither "\${NAME}" (upper-case name) nor "$$" (a literal "$")`,
      };
    }
    if (text !== '') parts.push({ kind: 'text', text });
    text = '';
    parts.push({ kind: 'variable', name });
  }
  text += template.slice(last);
  if (text !== '') parts.push({ kind: 'text', text });
  return { ok: true, parts };
}

/** The names a template references, in order of first appearance. */
export function referencedNames(parts: readonly TemplatePart[]): string[] {
  const names: string[] = [];
  for (const part of parts) {
    if (part.kind === 'variable' && !names.includes(part.name)) names.push(part.name);
  }
  return names;
}
