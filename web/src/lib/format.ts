export function memory(mb: number): string {
  return mb >= 1024 ? `${(mb / 1024).toFixed(mb % 1024 === 0 ? 0 : 1)} GB` : `${mb} MB`;
}

export function resources(r: { cores: number; memoryMb: number; diskGb: number }): string {
  return `${r.cores} ${r.cores === 1 ? 'core' : 'cores'} · ${memory(r.memoryMb)} memory · ${r.diskGb} GB disk`;
}

export function dateTime(iso: string): string {
  return new Date(iso).toLocaleString();
}

/** "3 min 20 s" from seconds, for waits the API announces. */
export function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}
