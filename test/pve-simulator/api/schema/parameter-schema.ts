import { ENDPOINT_PARAMETERS } from './endpoint-parameters';
import {
  FORMAT_VERIFIERS,
  PROPERTY_STRING_FORMATS,
  PROPERTY_STRING_VALIDATORS,
  splitList,
} from './named-formats';

/**
 * Request validation with pve-common's JSONSchema semantics (check_prop,
 * check_object, parse_property_string) against our hand-written parameter
 * table (endpoint-parameters.ts), so errors carry Proxmox's own texts.
 */

export interface PropertySchema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object' | 'null';
  optional?: number;
  default?: unknown;
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: string[];
  format?: string | Record<string, PropertySchema>;
  requires?: string;
  items?: PropertySchema;
  default_key?: number;
  alias?: string;
  keyAlias?: string;
}

export interface EndpointSchema {
  allowtoken: number;
  proxyto: string | null;
  protected: number;
  additionalProperties: number;
  properties: Record<string, PropertySchema>;
}

/** The parameters of every served endpoint, by `METHOD /path template`. */
export const ENDPOINT_SCHEMAS: Readonly<Record<string, EndpointSchema>> = ENDPOINT_PARAMETERS;

/** A decoded request parameter: form fields are strings (arrays when repeated); JSON bodies keep their types. */
export type RawParam = string | number | boolean | null | RawParam[] | { [key: string]: RawParam };

export type ValidationErrors = Record<string, string>;

/** Keys like `net0` … `net31` are declared once as `net[n]`. */
const INDEXED_KEYS: Readonly<Record<string, number>> = { net: 32, mp: 256, dev: 256, unused: 256 };

export function lookupProperty(
  properties: Record<string, PropertySchema>,
  key: string,
): PropertySchema | undefined {
  const direct = properties[key];
  if (direct) return direct;
  const match = /^([a-z]+)(\d+)$/.exec(key);
  if (!match) return undefined;
  const limit = INDEXED_KEYS[match[1]];
  if (limit === undefined || Number(match[2]) >= limit || String(Number(match[2])) !== match[2])
    return undefined;
  return properties[`${match[1]}[n]`];
}

function addError(errors: ValidationErrors, path: string, message: string): void {
  const key = path === '' ? '_root' : path;
  errors[key] = errors[key] === undefined ? message : `${errors[key]}\\n${message}`;
}

const NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;
const INTEGER = /^[+-]?\d+$/;

function perlRef(value: RawParam): string | null {
  if (Array.isArray(value)) return 'ARRAY';
  if (typeof value === 'boolean') return 'JSON::PP::Boolean';
  if (value !== null && typeof value === 'object') return 'HASH';
  return null;
}

function checkType(
  path: string,
  type: PropertySchema['type'],
  value: RawParam,
  errors: ValidationErrors,
): boolean {
  if (!type) return true;
  const ref = perlRef(value);
  if (type === 'array') {
    if (ref !== 'ARRAY') addError(errors, path, "type check ('array') failed");
    return ref === 'ARRAY';
  }
  if (type === 'object') {
    if (ref !== 'HASH') addError(errors, path, "type check ('object') failed");
    return ref === 'HASH';
  }
  if (ref) {
    if (type === 'boolean' && ref === 'JSON::PP::Boolean') return true;
    addError(errors, path, `type check ('${type}') failed - got ${ref}`);
    return false;
  }
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : '';
  if (type === 'boolean' && text !== '1' && text !== '0') {
    addError(errors, path, `type check ('boolean') failed - got '${text}'`);
    return false;
  }
  if (type === 'integer' && !INTEGER.test(text)) {
    addError(errors, path, `type check ('integer') failed - got '${text}'`);
    return false;
  }
  if (type === 'number' && !NUMBER.test(text)) {
    addError(errors, path, `type check ('number') failed - got '${text}'`);
    return false;
  }
  return true;
}

class FormatError extends Error {}

function parseBoolean(text: string): string | undefined {
  if (/^(1|on|yes|true)$/i.test(text)) return '1';
  if (/^(0|off|no|false)$/i.test(text)) return '0';
  return undefined;
}

/** pve-common's parse_property_string: `key=value,…` with an optional default key. */
export function parsePropertyString(
  format: Record<string, PropertySchema>,
  data: string,
  path: string,
): Record<string, string> {
  const result: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const pair = /^([^=]+)=(.+)$/s.exec(part);
    if (pair) {
      let [, key, value] = pair;
      if (result[key] !== undefined)
        throw new FormatError(`duplicate key in comma-separated list property: ${key}`);
      let schema = format[key];
      if (schema?.alias) {
        key = schema.alias;
        schema = format[key];
        if (result[key] !== undefined)
          throw new FormatError(`key '${key}' is already defined (via alias)`);
      }
      if (!schema) throw new FormatError(`invalid key in comma-separated list property: ${key}`);
      if (schema.type === 'boolean') value = parseBoolean(value) ?? value;
      result[key] = value;
    } else if (!part.includes('=')) {
      if (defaultKey)
        throw new FormatError(`duplicate key in comma-separated list property: ${defaultKey}`);
      for (const [key, schema] of Object.entries(format)) {
        if (!schema.default_key) continue;
        defaultKey = key;
        if (result[key] !== undefined)
          throw new FormatError(`duplicate key in comma-separated list property: ${key}`);
        result[key] = schema.type === 'boolean' ? (parseBoolean(part) ?? part) : part;
        break;
      }
      if (!defaultKey)
        throw new FormatError('value without key, but schema does not define a default key');
    } else {
      throw new FormatError('missing key in comma-separated list property');
    }
  }
  const errors: ValidationErrors = {};
  checkObject(path, format, result, false, errors);
  if (Object.keys(errors).length > 0) {
    throw new FormatError(
      `format error\n${Object.entries(errors)
        .map(([key, message]) => `${key}: ${message}\n`)
        .join('')}`.replace(/\n$/, ''),
    );
  }
  return result;
}

function checkFormat(
  format: NonNullable<PropertySchema['format']>,
  value: string,
  path: string,
): void {
  if (typeof format !== 'string') {
    parsePropertyString(format, value, path);
    return;
  }
  if (format === 'regex') return;
  const [, name, suffix] = /^(.*?)(?:-(list|opt))?$/.exec(format) ?? [format, format, undefined];
  const named = PROPERTY_STRING_FORMATS[name];
  if (named && !suffix) {
    const parsed = parsePropertyString(named, value, path);
    const message = PROPERTY_STRING_VALIDATORS[name]?.(parsed);
    if (message) throw new FormatError(message);
    return;
  }
  const verifier = FORMAT_VERIFIERS[name];
  if (!verifier) return;
  const items =
    suffix === 'list' ? splitList(value) : suffix === 'opt' ? (value ? [value] : []) : [value];
  for (const item of items) {
    const message = verifier(item);
    if (message !== undefined) throw new FormatError(message);
  }
}

function checkProp(
  value: RawParam | undefined,
  schema: PropertySchema,
  path: string,
  errors: ValidationErrors,
): void {
  if (value === undefined || value === null) {
    if (!schema.optional) addError(errors, path, 'property is missing and it is not optional');
    return;
  }
  if (!checkType(path, schema.type, value, errors)) return;
  if (Array.isArray(value)) {
    if (schema.items)
      value.forEach((item, index) =>
        checkProp(item, schema.items as PropertySchema, `${path}[${index}]`, errors),
      );
    return;
  }
  if (typeof value === 'object' || typeof value === 'boolean') return;
  const text = String(value);
  if (schema.format !== undefined) {
    try {
      checkFormat(schema.format, text, path);
    } catch (error) {
      if (!(error instanceof FormatError)) throw error;
      addError(errors, path, `invalid format - ${error.message}\n`);
      return;
    }
  }
  if (schema.pattern !== undefined && !new RegExp(`^(?:${schema.pattern})$`).test(text)) {
    addError(errors, path, 'value does not match the regex pattern');
    return;
  }
  if (schema.maxLength !== undefined && [...text].length > schema.maxLength) {
    addError(errors, path, `value may only be ${schema.maxLength} characters long`);
    return;
  }
  if (schema.minLength !== undefined && [...text].length < schema.minLength) {
    addError(errors, path, `value must be at least ${schema.minLength} characters long`);
    return;
  }
  if (NUMBER.test(text)) {
    if (schema.maximum !== undefined && Number(text) > Number(schema.maximum)) {
      addError(errors, path, `value must have a maximum value of ${schema.maximum}`);
      return;
    }
    if (schema.minimum !== undefined && Number(text) < Number(schema.minimum)) {
      addError(errors, path, `value must have a minimum value of ${schema.minimum}`);
      return;
    }
  }
  if (schema.enum && !schema.enum.includes(text)) {
    addError(
      errors,
      path,
      `value '${text}' does not have a value in the enumeration '${schema.enum.join(', ')}'`,
    );
  }
}

function checkObject(
  path: string,
  properties: Record<string, PropertySchema>,
  value: Record<string, RawParam>,
  additional: boolean,
  errors: ValidationErrors,
): void {
  for (const [key, schema] of Object.entries(properties)) {
    if (key.endsWith('[n]')) continue;
    checkProp(value[key], schema, path ? `${path}.${key}` : key, errors);
  }
  for (const key of Object.keys(value)) {
    const newPath = path ? `${path}.${key}` : key;
    const schema = lookupProperty(properties, key);
    if (schema) {
      if (!Object.hasOwn(properties, key)) checkProp(value[key], schema, newPath, errors);
      if (
        schema.requires &&
        (value[schema.requires] === undefined || value[schema.requires] === null)
      ) {
        addError(
          errors,
          path ? `${path}.${schema.requires}` : schema.requires,
          `missing property required by '${newPath}'`,
        );
      }
      continue;
    }
    if (!additional)
      addError(
        errors,
        newPath,
        'property is not defined in schema and the schema does not allow additional properties',
      );
  }
}

/**
 * RESTHandler's normalisation before validation: repeated keys joined for
 * `-list` formats, single values wrapped for array parameters.
 */
function normalizeLegacyFormats(
  params: Record<string, RawParam>,
  properties: Record<string, PropertySchema>,
): void {
  for (const [key, value] of Object.entries(params)) {
    const schema = lookupProperty(properties, key);
    if (!schema || value === null || value === '' || value === 0 || value === false) continue;
    const format = typeof schema.format === 'string' ? schema.format : '';
    if (Array.isArray(value) && schema.type === 'string' && format.endsWith('-list'))
      params[key] = value.map(String).join(',');
    else if (!Array.isArray(value) && schema.type === 'array') params[key] = [value];
  }
}

export function validateParameters(
  params: Record<string, RawParam>,
  schema: EndpointSchema,
): ValidationErrors {
  normalizeLegacyFormats(params, schema.properties);
  const errors: ValidationErrors = {};
  checkObject('', schema.properties, params, schema.additionalProperties !== 0, errors);
  return errors;
}

/** Checks one value against a property's schema outside a request (e.g. `pct set`). */
export function validateValue(
  key: string,
  value: string,
  schema: PropertySchema,
): string | undefined {
  const errors: ValidationErrors = {};
  checkProp(value, schema, key, errors);
  return errors[key];
}
