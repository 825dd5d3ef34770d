const UNITS = ['B', 'KB', 'MB', 'GB', 'TB'];

/** "1.5 GB" from bytes (powers of 1024, as Proxmox counts them). */
export function bytes(n: number): string {
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

export function percent(fraction: number): string {
  const value = fraction * 100;
  return `${value.toFixed(value < 10 ? 1 : 0)} %`;
}
