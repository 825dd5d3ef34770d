/**
 * GNU coreutils `printf FORMAT [ARGUMENT]...`: the format is reused while
 * arguments remain, escapes in the format and in `%b` arguments are decoded.
 * Strings are handled as UTF-8 bytes so arbitrary arguments come back unchanged.
 */

export interface PrintfResult {
  output: Buffer;
  errors: string[];
}

/** Backslash escapes; returns the bytes and whether `\c` asked to stop all output. */
function decodeEscapes(text: string, inArgument: boolean): { bytes: Buffer; stop: boolean } {
  const parts: Buffer[] = [];
  let literal = '';
  const flush = (): void => {
    if (literal) parts.push(Buffer.from(literal));
    literal = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '\\' || i === text.length - 1) {
      literal += c;
      continue;
    }
    const next = text[++i];
    const simple: Record<string, string> = {
      '\\': '\\',
      '"': '"',
      a: '\x07',
      b: '\b',
      e: '\x1b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\v',
    };
    if (next in simple) {
      literal += simple[next];
    } else if (next === 'c') {
      flush();
      return { bytes: Buffer.concat(parts), stop: true };
    } else if (/[0-7]/.test(next) || (inArgument && next === '0')) {
      const maxDigits = inArgument && next === '0' ? 4 : 3;
      let digits = '';
      let j = i;
      while (digits.length < maxDigits && /[0-7]/.test(text[j] ?? '')) digits += text[j++];
      if (inArgument && next === '0') digits = digits.slice(1) || '0';
      flush();
      parts.push(Buffer.from([parseInt(digits, 8) & 0xff]));
      i = j - 1;
    } else if (next === 'x' && /[0-9A-Fa-f]/.test(text[i + 1] ?? '')) {
      let digits = '';
      let j = i + 1;
      while (digits.length < 2 && /[0-9A-Fa-f]/.test(text[j] ?? '')) digits += text[j++];
      flush();
      parts.push(Buffer.from([parseInt(digits, 16)]));
      i = j - 1;
    } else if ((next === 'u' || next === 'U') && /[0-9A-Fa-f]/.test(text[i + 1] ?? '')) {
      const width = next === 'u' ? 4 : 8;
      const digits = text.slice(i + 1, i + 1 + width);
      literal += String.fromCodePoint(parseInt(digits, 16));
      i += digits.length;
    } else {
      literal += `\\${next}`;
    }
  }
  flush();
  return { bytes: Buffer.concat(parts), stop: false };
}

function parseNumber(arg: string | undefined, errors: string[]): number {
  if (arg === undefined || arg === '') return 0;
  if (/^['"]/.test(arg)) return arg.codePointAt(1) ?? 0;
  const trimmed = arg.trim();
  let value: number;
  if (/^[+-]?0[xX][0-9a-fA-F]+$/.test(trimmed)) value = Number.parseInt(trimmed, 16);
  else if (/^[+-]?0[0-7]+$/.test(trimmed)) value = Number.parseInt(trimmed, 8);
  else value = Number(trimmed);
  if (!Number.isFinite(value)) {
    errors.push(`printf: '${arg}': expected a numeric value`);
    const leading = /^[+-]?\d+/.exec(trimmed);
    return leading ? Number(leading[0]) : 0;
  }
  return value;
}

function pad(text: string, width: number | undefined, flags: string): string {
  if (width === undefined || text.length >= width) return text;
  if (flags.includes('-')) return text.padEnd(width);
  if (flags.includes('0') && /^[+-]?[0-9.]/.test(text)) {
    const sign = /^[+-]/.test(text) ? text[0] : '';
    return sign + text.slice(sign.length).padStart(width - sign.length, '0');
  }
  return text.padStart(width);
}

const CONVERSION = /%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d*))?([sbcdiouxXfeEgG%])/g;

export function formatPrintf(format: string, args: readonly string[]): PrintfResult {
  const errors: string[] = [];
  const out: Buffer[] = [];
  let argIndex = 0;
  const consumesArguments = /%(?!%)/.test(format.replace(/%%/g, ''));
  do {
    let cursor = 0;
    let stopped = false;
    CONVERSION.lastIndex = 0;
    for (let match = CONVERSION.exec(format); match; match = CONVERSION.exec(format)) {
      const literal = decodeEscapes(format.slice(cursor, match.index), false);
      out.push(literal.bytes);
      if (literal.stop) return { output: Buffer.concat(out), errors };
      cursor = match.index + match[0].length;
      const [, flags, widthText, precisionText, conversion] = match;
      if (conversion === '%') {
        out.push(Buffer.from('%'));
        continue;
      }
      const width =
        widthText === '*'
          ? parseNumber(args[argIndex++], errors)
          : widthText
            ? Number(widthText)
            : undefined;
      const precision =
        precisionText === '*'
          ? parseNumber(args[argIndex++], errors)
          : precisionText === undefined
            ? undefined
            : Number(precisionText || 0);
      const arg = args[argIndex++];
      switch (conversion) {
        case 's': {
          let text = arg ?? '';
          if (precision !== undefined) text = Buffer.from(text).subarray(0, precision).toString();
          out.push(Buffer.from(pad(text, width, flags)));
          break;
        }
        case 'b': {
          const decoded = decodeEscapes(arg ?? '', true);
          out.push(decoded.bytes);
          if (decoded.stop) stopped = true;
          break;
        }
        case 'c':
          out.push(Buffer.from(pad((arg ?? '').slice(0, 1), width, flags)));
          break;
        case 'd':
        case 'i':
        case 'u': {
          const value = Math.trunc(parseNumber(arg, errors));
          let text = String(
            conversion === 'u' && value < 0 ? BigInt.asUintN(64, BigInt(value)) : value,
          );
          if (flags.includes('+') && value >= 0) text = `+${text}`;
          else if (flags.includes(' ') && value >= 0) text = ` ${text}`;
          out.push(Buffer.from(pad(text, width, flags)));
          break;
        }
        case 'o':
        case 'x':
        case 'X': {
          const value = Math.trunc(parseNumber(arg, errors));
          const radix = conversion === 'o' ? 8 : 16;
          let text = BigInt.asUintN(64, BigInt(value)).toString(radix);
          if (conversion === 'X') text = text.toUpperCase();
          if (flags.includes('#') && value !== 0)
            text = (conversion === 'o' ? '0' : conversion === 'x' ? '0x' : '0X') + text;
          out.push(Buffer.from(pad(text, width, flags)));
          break;
        }
        default: {
          const value = parseNumber(arg, errors);
          const digits = precision ?? 6;
          let text: string;
          if (conversion === 'f') text = value.toFixed(digits);
          else if (conversion === 'e' || conversion === 'E')
            text = value.toExponential(digits).replace(/e([+-])(\d)$/, 'e$10$2');
          else text = String(Number(value.toPrecision(Math.max(digits, 1))));
          if (conversion === 'E' || conversion === 'G') text = text.toUpperCase();
          if (flags.includes('+') && value >= 0) text = `+${text}`;
          out.push(Buffer.from(pad(text, width, flags)));
        }
      }
      if (stopped) return { output: Buffer.concat(out), errors };
    }
    const tail = decodeEscapes(format.slice(cursor), false);
    out.push(tail.bytes);
    if (tail.stop) break;
  } while (consumesArguments && argIndex < args.length);
  return { output: Buffer.concat(out), errors };
}
