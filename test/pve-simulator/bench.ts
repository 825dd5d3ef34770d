/**
 * `npm run bench:sim`: throughput of GET /cluster/resources and resident
 * memory with 1,000 containers. The simulator runs in its own process (as it
 * does for the product's tests), the load generator here; loopback only.
 * Prints figures; asserts nothing.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Dispatcher, request } from 'undici';
import type { ReadyInfo } from './index';
import { pinnedAgent } from './testing/pinned-tls';

const CONTAINERS = 1000;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 5000);
const IN_FLIGHT = 32;

function startSimulatorProcess(): Promise<{ child: ChildProcess; ready: ReadyInfo }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'main.ts'),
      '--port',
      '0',
      '--ssh-port',
      '0',
      '--seed',
      '1',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once('line', (line) => resolve({ child, ready: JSON.parse(line) as ReadyInfo }));
  });
}

function residentMegabytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kilobytes = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
  return Math.round(kilobytes / 1024);
}

async function createContainers(
  dispatcher: Dispatcher,
  api: string,
  nodes: string[],
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < CONTAINERS) {
      const index = next++;
      const response = await request(`${api}/_sim/guests`, {
        dispatcher,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          node: nodes[index % nodes.length],
          vmid: 1000 + index,
          hostname: `bench-${index}`,
          status: index % 3 === 0 ? 'stopped' : 'running',
          cores: 2,
          memory: 1024,
          tags: ['bench'],
        }),
      });
      await response.body.dump();
      if (response.statusCode !== 201)
        throw new Error(`creating guest ${index}: HTTP ${response.statusCode}`);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/**
 * Ticks every second instead of pvestatd's 10 s, so that the runs pay for
 * rebuilding the answer as often as uptimes would move, and waits for the
 * first tick: measured answers carry every guest's figures.
 */
async function tickEverySecond(
  dispatcher: Dispatcher,
  api: string,
  auth: Record<string, string>,
): Promise<void> {
  const response = await request(`${api}/_sim/latency`, {
    dispatcher,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ statsIntervalMs: 1000 }),
  });
  await response.body.dump();
  if (response.statusCode !== 200)
    throw new Error(`setting statsIntervalMs: HTTP ${response.statusCode}`);
  const deadline = Date.now() + 15_000;
  for (;;) {
    const answer = await request(`${api}/api2/json/cluster/resources?type=vm`, {
      dispatcher,
      headers: auth,
    });
    const { data } = (await answer.body.json()) as { data: Array<{ status: string }> };
    if (data.every((row) => row.status !== 'unknown')) return;
    if (Date.now() > deadline) throw new Error('no pvestatd tick within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function measure(
  dispatcher: Dispatcher,
  url: string,
  headers: Record<string, string>,
): Promise<{ rate: number; bytes: number }> {
  const deadline = Date.now() + DURATION_MS;
  let completed = 0;
  let bytes = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const response = await request(url, { dispatcher, headers });
      let size = 0;
      for await (const chunk of response.body) size += (chunk as Buffer).length;
      if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
      bytes = size;
      completed++;
    }
  };
  const started = Date.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return { rate: Math.round((completed * 1000) / (Date.now() - started)), bytes };
}

async function main(): Promise<void> {
  const { child, ready } = await startSimulatorProcess();
  try {
    const agent = pinnedAgent(ready.tlsFingerprint);
    const rssIdle = residentMegabytes(child.pid as number);
    await createContainers(agent, ready.api, ready.nodes);
    const rssLoaded = residentMegabytes(child.pid as number);
    const auth = { authorization: `PVEAPIToken=${ready.tokenId}=${ready.tokenSecret}` };
    const url = `${ready.api}/api2/json/cluster/resources`;
    await tickEverySecond(agent, ready.api, auth);
    const warmup = Date.now() + 500;
    while (Date.now() < warmup)
      await (await request(url, { dispatcher: agent, headers: auth })).body.dump();
    const compressed = await measure(agent, url, {
      ...auth,
      'accept-encoding': 'br, gzip, deflate',
    });
    const plain = await measure(agent, url, auth);
    const rssAfter = residentMegabytes(child.pid as number);
    process.stdout.write(
      `containers: ${CONTAINERS}, duration: ${DURATION_MS} ms per run, ${IN_FLIGHT} requests in flight over keep-alive HTTPS\n`,
    );
    process.stdout.write(`cluster/resources req/s: ${compressed.rate}\n`);
    process.stdout.write(
      `  (gzip as proxmox-api/undici fetch requests it: ${compressed.bytes} bytes per answer)\n`,
    );
    process.stdout.write(
      `cluster/resources req/s without compression: ${plain.rate} (${plain.bytes} bytes per answer)\n`,
    );
    process.stdout.write(`rss idle: ${rssIdle} MB\n`);
    process.stdout.write(`rss with 1000 containers: ${Math.max(rssLoaded, rssAfter)} MB\n`);
    await agent.close();
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
