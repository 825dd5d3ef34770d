import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const running = new Set<ChildProcess>();

/**
 * Kills every process this test file spawned that is still running. A test
 * that failed or timed out before its process exited would otherwise leave
 * it, and its pipes keep the jest worker from exiting.
 */
export async function killSpawned(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('close', () => resolve());
          if (!child.kill('SIGKILL')) resolve();
        }),
    ),
  );
}

/** Runs a TypeScript entry point of the project in its own process, as production would. */
export function spawnEntry(entry: string, env: NodeJS.ProcessEnv, args: string[] = []): Spawned {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  // 'close', not 'exit': 'exit' can come before the last chunk of output is
  // read (16 times in 300 short-lived children here), and a test reading the
  // output after the exit code would then miss the line it looks for.
  const exited = new Promise<number | null>((resolve) =>
    child.once('close', (code) => resolve(code)),
  );
  return { child, stdout: () => out, stderr: () => err, exited };
}

/**
 * Polls until the condition holds or the deadline passes. The deadline only
 * bounds a hang: a spawned process compiles its sources at start, which took
 * over 20 s on a loaded 2-core machine, so it stays below the 60 s test timeout
 * with room to spare rather than close to a normal start.
 */
export async function waitFor<T>(
  probe: () => Promise<T | null | undefined | false>,
  deadlineMs = 45_000,
  intervalMs = 100,
): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value) return value;
    if (Date.now() > end) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
