import { Client } from 'ssh2';
import { Proxmox } from 'proxmox-api';
import { Agent, fetch, Headers } from 'undici';
import { RunningSimulator, startSimulator } from '../index';
import { SimulatorOptions } from '../options';
import { pinnedAgent, ticketClient, tokenClient } from './pinned-tls';
import { ExecResult, sshConnect, sshExec } from './ssh-session';

export const TEMPLATE = 'local:vztmpl/debian-12-standard_12.7-1_amd64.tar.zst';
export const UPID_PATTERN =
  /^UPID:[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?:[0-9A-F]{8}:[0-9A-F]{8,9}:[0-9A-F]{8}:[^:\s/]+:[^:\s/]*:[^:\s/]+:$/;

export type CreateParams = Parameters<ReturnType<Proxmox.Api['nodes']['$']>['lxc']['$post']>[0];

export interface TaskStatus {
  status: string;
  exitstatus?: string;
  [key: string]: unknown;
}

export interface ControlResponse {
  status: number;
  body: unknown;
}

/**
 * One simulator per test file, driven only from outside: the real
 * proxmox-api client (token and ticket), ssh2, and HTTP to /_sim/.
 */
export class SimulatorFixture {
  readonly token: Proxmox.Api;
  readonly ticket: Proxmox.Api;
  private readonly agents: Agent[] = [];
  private readonly sshClients: Client[] = [];
  readonly http: Agent;

  private constructor(readonly sim: RunningSimulator) {
    const token = tokenClient(sim);
    const ticket = ticketClient(sim);
    this.token = token.api;
    this.ticket = ticket.api;
    this.http = pinnedAgent(sim.tlsFingerprint);
    this.agents.push(token.agent, ticket.agent, this.http);
  }

  static async start(options: SimulatorOptions = {}): Promise<SimulatorFixture> {
    const sim = await startSimulator({ latency: { taskMs: 10 }, seed: 42, ...options });
    return new SimulatorFixture(sim);
  }

  /**
   * The usual hooks of a spec file: one simulator for the file, back to an
   * empty cluster before each test, closed after the file (only if it started).
   * `use` receives the fixture once it runs; hooks registered after this one
   * (more set-up per test) run after the reset.
   */
  static perFile(use: (fixture: SimulatorFixture) => void, options: SimulatorOptions = {}): void {
    let fixture: SimulatorFixture | undefined;
    beforeAll(async () => {
      fixture = await SimulatorFixture.start(options);
      use(fixture);
    });
    afterAll(async () => {
      await fixture?.close();
    });
    beforeEach(async () => {
      await fixture?.control('POST', '/_sim/reset');
    });
  }

  async close(): Promise<void> {
    for (const client of this.sshClients) client.end();
    await Promise.all(this.agents.map((agent) => agent.close()));
    await this.sim.stop();
  }

  /** Any HTTPS request to the simulator, with the status line and headers as a client sees them. */
  async raw(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; statusText: string; headers: Headers; text: string }> {
    const response = await fetch(`${this.sim.api}${path}`, {
      dispatcher: this.http,
      method,
      headers:
        body === undefined || typeof body === 'string'
          ? headers
          : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      text: await response.text(),
    };
  }

  async control(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<ControlResponse> {
    const response = await this.raw(method, path, body);
    return {
      status: response.status,
      body: response.text === '' ? null : (JSON.parse(response.text) as unknown),
    };
  }

  async state(): Promise<{
    containers: Array<{
      vmid: number;
      node: string;
      hostname: string;
      status: string;
      ip: string | null;
      tags: string[];
      snapshots: string[];
      locked: string | null;
      services: string[];
    }>;
    backups: string[];
    forwards: Array<{
      node: string;
      publicPort: number;
      protocol: string;
      target: string;
      comment: string | null;
    }>;
    tasks: { running: number; failed: number; total: number };
    calls: number;
  }> {
    return (await this.control('GET', '/_sim/state')).body as Awaited<
      ReturnType<SimulatorFixture['state']>
    >;
  }

  async taskStatus(upid: string, node = upid.split(':')[1]): Promise<TaskStatus> {
    return await this.token.nodes.$(node).tasks.$(upid).status.$get();
  }

  /** Polls the task until it stops (the way a client waits on a UPID). */
  async waitTask(upid: string, timeoutMs = 10_000): Promise<TaskStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.taskStatus(upid);
      if (status.status === 'stopped') return status;
      if (Date.now() > deadline)
        throw new Error(`task ${upid} still running after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Reads until `done` holds (monitoring data and leases arrive later); returns that reading. */
  async until<T>(
    read: () => Promise<T>,
    done: (value: T) => boolean,
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (done(value)) return value;
      if (Date.now() > deadline) throw new Error(`condition still false after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async taskLog(upid: string): Promise<string[]> {
    const lines = (await this.token.nodes
      .$(upid.split(':')[1])
      .tasks.$(upid)
      .log.$get({ limit: 0 })) as Array<{ n: number; t: string }>;
    return lines.map((line) => line.t);
  }

  /** The UPID of the guest's newest task of this type, such as the vzstart a create forked. */
  async latestTask(node: string, vmid: number, type: string): Promise<string> {
    const [task] = await this.token.nodes
      .$(node)
      .tasks.$get({ vmid, typefilter: type, source: 'all', limit: 1 });
    if (!task) throw new Error(`no ${type} task for ${vmid} on ${node}`);
    return task.upid;
  }

  /**
   * Creates a container through the API and waits for the task; returns the
   * task's status. With `start`, also waits for the vzstart task the create
   * forked, since Proxmox ends the create task first.
   */
  async createContainer(
    vmid: number,
    params: Record<string, unknown> = {},
    node = 'pve1',
  ): Promise<TaskStatus> {
    const upid = await this.token.nodes.$(node).lxc.$post({
      vmid,
      ostemplate: TEMPLATE,
      hostname: `ct${vmid}`,
      rootfs: 'local-lvm:8',
      net0: 'name=eth0,bridge=vmbr0,ip=dhcp',
      features: 'nesting=1',
      ...params,
    });
    const created = await this.waitTask(upid);
    if (params.start && created.exitstatus === 'OK')
      await this.waitTask(await this.latestTask(node, vmid, 'vzstart'));
    return created;
  }

  async ssh(): Promise<Client> {
    const client = await sshConnect(this.sim);
    this.sshClients.push(client);
    return client;
  }

  async exec(command: string, stdin?: string): Promise<ExecResult> {
    const client = this.sshClients[0] ?? (await this.ssh());
    return sshExec(client, command, stdin);
  }
}

/** The HTTP status and text a proxmox-api error carries in its message. */
export async function apiError(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  throw new Error('expected the call to fail');
}
