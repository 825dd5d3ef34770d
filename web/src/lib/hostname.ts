/** The API's rule for a container hostname: one lowercase RFC 1123 label. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Why a hostname is refused, in words; null when it is acceptable. */
export function hostnameProblem(value: string): string | null {
  if (value === '') return 'Choose a hostname.';
  if (value.length > 63) return 'At most 63 characters.';
  if (/[A-Z]/.test(value)) return 'Lowercase letters only.';
  if (value.startsWith('-') || value.endsWith('-')) return 'It cannot start or end with a hyphen.';
  if (!LABEL.test(value)) return 'Only letters a–z, digits and hyphens.';
  return null;
}
