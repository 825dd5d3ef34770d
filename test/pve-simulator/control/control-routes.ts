import type { IncomingMessage, ServerResponse } from 'node:http';
import { FORMAT_VERIFIERS } from '../api/schema/named-formats';
import type { ControlHandler } from '../api/pve-http-server';
import { GuestSystem } from '../guest/guest-system';
import { allocateDisk, rootfsValue } from '../pve/volumes';
import { Simulation } from '../simulation';
import { Container } from '../state/container';
import { normalizeTags } from '../state/container-config';
import { parseLatencyUpdate } from '../util/latency';

class ControlError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  return address === '::1' || /^(::ffff:)?127\./.test(address);
}

const GUEST_FIELDS = new Set(['node', 'vmid', 'hostname', 'status', 'cores', 'memory', 'tags']);

/**
 * The `/_sim/` routes of the simulator README: reset, state, faults, latency, guests.
 * No Proxmox auth; refused unless the caller is on the loopback interface.
 */
export class ControlRoutes implements ControlHandler {
  constructor(private readonly sim: Simulation) {}

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    body: Buffer,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    try {
      if (!isLoopback(req.socket.remoteAddress))
        throw new ControlError(403, 'control routes are only served to loopback clients');
      const parsed = body.length > 0 ? this.parseJson(body) : {};
      const [status, result] = await this.route(method, path.replace(/\/+$/, ''), parsed);
      this.send(res, status, result);
    } catch (error) {
      if (error instanceof ControlError) {
        this.send(res, error.status, { error: error.message });
        return;
      }
      throw error;
    }
  }

  private parseJson(body: Buffer): unknown {
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new ControlError(400, 'body is not valid JSON');
    }
  }

  private send(res: ServerResponse, status: number, result: unknown): void {
    const payload = Buffer.from(JSON.stringify(result));
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': payload.length,
      'Cache-Control': 'no-store',
    });
    res.end(payload);
  }

  private async route(method: string, path: string, body: unknown): Promise<[number, unknown]> {
    const sim = this.sim;
    const allow = (methods: string[]): void => {
      if (!methods.includes(method))
        throw new ControlError(
          405,
          `method ${method} not allowed on ${path} (allowed: ${methods.join(', ')})`,
        );
    };
    switch (path) {
      case '/_sim/reset':
        allow(['POST']);
        await sim.reset();
        return [200, { ok: true }];
      case '/_sim/state':
        allow(['GET']);
        return [200, sim.stateView()];
      case '/_sim/faults': {
        allow(['GET', 'POST', 'DELETE']);
        if (method === 'GET') return [200, { rules: sim.faults.list() }];
        if (method === 'DELETE') return [200, { cleared: sim.faults.clear() }];
        const added = sim.faults.add(body);
        if (typeof added === 'string') throw new ControlError(400, added);
        return [201, { ids: added.map((rule) => rule.id), rules: added }];
      }
      case '/_sim/latency': {
        allow(['GET', 'POST']);
        if (method === 'POST') {
          const update = parseLatencyUpdate(body);
          if (typeof update === 'string') throw new ControlError(400, update);
          Object.assign(sim.latency, update);
          if (update.statsIntervalMs !== undefined) sim.pvestatd.reschedule();
        }
        return [200, { ...sim.latency }];
      }
      case '/_sim/guests': {
        allow(['POST']);
        const container = await this.createGuest(body);
        return [201, sim.containerView(container)];
      }
      default:
        throw new ControlError(404, `no such control route: ${path}`);
    }
  }

  /** A container that exists on the cluster without Proximity having created it (adoption tests). */
  private async createGuest(body: unknown): Promise<Container> {
    const sim = this.sim;
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new ControlError(400, 'body must be a JSON object');
    const input = body as Record<string, unknown>;
    for (const key of Object.keys(input))
      if (!GUEST_FIELDS.has(key)) throw new ControlError(400, `unknown field '${key}'`);
    const { node: nodeName, vmid, hostname, status = 'running', cores, memory, tags } = input;
    if (typeof nodeName !== 'string') throw new ControlError(400, 'node must be a string');
    const node = sim.cluster.node(nodeName);
    if (!node) throw new ControlError(400, `no such node '${nodeName}'`);
    if (typeof vmid !== 'number' || !Number.isInteger(vmid) || vmid < 100 || vmid > 999_999_999)
      throw new ControlError(400, 'vmid must be an integer between 100 and 999999999');
    if (typeof hostname !== 'string' || FORMAT_VERIFIERS['dns-name'](hostname) !== undefined)
      throw new ControlError(400, 'hostname must be a valid DNS name');
    if (status !== 'running' && status !== 'stopped')
      throw new ControlError(400, 'status must be "running" or "stopped"');
    if (
      cores !== undefined &&
      (typeof cores !== 'number' || !Number.isInteger(cores) || cores < 1 || cores > 8192)
    )
      throw new ControlError(400, 'cores must be an integer between 1 and 8192');
    if (
      memory !== undefined &&
      (typeof memory !== 'number' || !Number.isInteger(memory) || memory < 16)
    )
      throw new ControlError(400, 'memory must be an integer of at least 16 (MiB)');
    if (
      tags !== undefined &&
      (!Array.isArray(tags) ||
        tags.some(
          (tag) => typeof tag !== 'string' || FORMAT_VERIFIERS['pve-tag'](tag) !== undefined,
        ))
    ) {
      throw new ControlError(400, 'tags must be an array of valid tags');
    }
    const existing = sim.cluster.containers.get(vmid);
    if (existing)
      throw new ControlError(409, `CT ${vmid} already exists on node '${existing.node}'`);
    const storage = node.storages.get('local-lvm');
    if (!storage) throw new ControlError(500, `node ${nodeName} has no local-lvm storage`);
    const disk = allocateDisk(storage, vmid, 8, sim.now());
    const config: Record<string, string> = {
      arch: 'amd64',
      hostname,
      memory: String(memory ?? 512),
      net0: `name=eth0,bridge=vmbr0,hwaddr=${sim.cluster.randomMac()},ip=dhcp,type=veth`,
      ostype: 'debian',
      rootfs: rootfsValue(disk),
      swap: '512',
      unprivileged: '1',
    };
    if (cores !== undefined) config.cores = String(cores);
    if (Array.isArray(tags) && tags.length > 0)
      config.tags = normalizeTags((tags as string[]).join(';'));
    const container = new Container(
      vmid,
      node.name,
      config,
      GuestSystem.fromTemplate(hostname),
      sim.cluster.allocateAddress(),
    );
    sim.cluster.addContainer(container);
    sim.changed();
    if (status === 'running') await sim.markRunning(container);
    return container;
  }
}
