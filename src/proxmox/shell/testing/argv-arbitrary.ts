import fc from 'fast-check';

/** Fragments that mean something to a shell: each must arrive as plain text. */
const SHELL_SYNTAX = [
  "'",
  '"',
  '\\',
  '$(',
  ')',
  '`',
  '\n',
  '\r',
  '\t',
  ';',
  '&&',
  '||',
  '|',
  '&',
  '<',
  '>',
  '*',
  '?',
  '[a]',
  ' ',
  '$HOME',
  '${x}',
  '$((1+1))',
  '#',
  '~',
  '-',
  '--',
  '!',
  '%s',
  '%',
  '\\0',
  "'\\''",
  'é',
  '🚀',
  'word',
];

/** Any argv a caller could build: arbitrary Unicode, shell syntax mixed in, empty strings; never NUL. */
export const argvArbitrary = fc.array(
  fc
    .oneof(
      fc.string({ unit: 'binary', maxLength: 16 }),
      fc.array(fc.constantFrom(...SHELL_SYNTAX), { maxLength: 8 }).map((parts) => parts.join('')),
      fc.constant(''),
    )
    .filter((arg) => !arg.includes('\0')),
  { minLength: 1, maxLength: 6 },
);
