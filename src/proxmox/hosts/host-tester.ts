import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DomainError } from '../../common/errors/domain-error';
import { ProxmoxGateway } from '../gateway/proxmox-gateway';
import type { ProxmoxConnection } from '../gateway/proxmox-connection';
import { isNodeName } from '../node-name';
import { NodeShell, type ShellTarget } from '../shell/node-shell';
import { NodeShellError, NodeShellErrorKind } from '../shell/shell-errors';
import type { HostTestResult, NodeSshTestResult, SshTestResult } from './hosts.dto';
import { HostsService } from './hosts.service';
import type { ProxmoxHost } from './proxmox-host.entity';

/**
 * All checks run in parallel within this budget, so that the answer comes
 * within the 10 s of API.md whatever the host does (leaving room for the SSH
 * close and the request around it).
 */
export const HOST_TEST_BUDGET_MS = 8_000;

/** Our wording: ssh2's texts and the endpoint's address stay in the server log. */
const SSH_REASONS: Record<NodeShellErrorKind, string> = {
  [NodeShellErrorKind.HostKeyNotPinned]:
    'the host has no SSH host key fingerprint, and insecure SSH is not enabled',
  [NodeShellErrorKind.HostKeyMismatch]: 'the SSH host key does not match the pinned one',
  [NodeShellErrorKind.AuthFailed]: 'the SSH server rejected the credentials',
  [NodeShellErrorKind.Unreachable]: 'the SSH endpoint is unreachable',
  [NodeShellErrorKind.ConnectTimeout]: 'SSH did not answer in time',
  [NodeShellErrorKind.CommandTimeout]: 'SSH did not answer in time',
  [NodeShellErrorKind.ConnectionLost]: 'the SSH connection was lost',
  [NodeShellErrorKind.CommandFailed]: 'the SSH login cannot run commands',
  [NodeShellErrorKind.InvalidInput]: 'the SSH settings of the host are unusable',
  [NodeShellErrorKind.ProtocolError]: 'the SSH connection failed',
};

const RELAY_FAILED = "the host's SSH endpoint could not relay a command to this node";

/**
 * `POST /api/proxmox/hosts/:id/test`: does the host answer over the API and
 * over SSH, and does SSH reach every online node as deploys will?
 */
@Injectable()
export class HostTester {
  constructor(
    @InjectPinoLogger(HostTester.name) private readonly logger: PinoLogger,
    private readonly hosts: HostsService,
    private readonly gateway: ProxmoxGateway,
    private readonly shell: NodeShell,
  ) {}

  async test(id: string): Promise<HostTestResult> {
    const host = await this.hosts.get(id);
    const started = Date.now();
    const [api, ssh] = await Promise.all([this.testApi(host), this.testSsh(host, started)]);
    return { ...api, ok: api.ok && ssh.ok, ssh };
  }

  private async testApi(host: ProxmoxHost): Promise<Omit<HostTestResult, 'ssh'>> {
    const started = Date.now();
    try {
      const { version } = await this.gateway.version(this.budgeted(host, started));
      return { ok: true, version, latencyMs: Date.now() - started };
    } catch (err) {
      return { ok: false, reason: this.hosts.reasonOf(err, host) };
    }
  }

  /** The host's SSH endpoint itself, and each online node the way deploys reach it: relayed. */
  private async testSsh(host: ProxmoxHost, started: number): Promise<SshTestResult> {
    const [entry, nodes] = await Promise.all([
      this.runTrue(host, () => this.hosts.shellTargetFor(host), started),
      this.testNodes(host, started),
    ]);
    const unreachable = (nodes ?? []).filter((n) => !n.ok).map((n) => n.node);
    const result: SshTestResult = { ok: entry.ok && unreachable.length === 0 };
    if (!entry.ok) result.reason = entry.reason;
    else if (unreachable.length > 0) {
      result.reason = `SSH does not reach ${unreachable.length === 1 ? 'node' : 'nodes'} ${unreachable.join(', ')} through the host's SSH endpoint`;
    }
    if (nodes !== null) result.nodes = nodes;
    return result;
  }

  /** Null when the cluster's nodes cannot be listed: the API check reports why. */
  private async testNodes(host: ProxmoxHost, started: number): Promise<NodeSshTestResult[] | null> {
    let online: string[];
    try {
      const nodes = await this.gateway.listNodes(this.budgeted(host, started));
      online = nodes
        .filter((n) => n.online && isNodeName(n.name))
        .map((n) => n.name)
        .sort();
    } catch {
      return null;
    }
    return Promise.all(
      online.map(async (node) => ({
        node,
        ...(await this.runTrue(host, () => this.hosts.shellTargetFor(host, node), started)),
      })),
    );
  }

  /** One API call and its read retry within what is left of the test's budget. */
  private budgeted(host: ProxmoxHost, started: number): ProxmoxConnection {
    const connection = this.hosts.connectionFor(host);
    const left = Math.max(1, HOST_TEST_BUDGET_MS - (Date.now() - started));
    return {
      ...connection,
      timeoutMs: Math.min(connection.timeoutMs, left),
      signal: AbortSignal.timeout(left),
    };
  }

  private async runTrue(
    host: ProxmoxHost,
    targetOf: () => ShellTarget,
    started: number,
  ): Promise<{ ok: boolean; reason?: string }> {
    let target: ShellTarget | null = null;
    try {
      target = targetOf();
      const connectTimeoutMs = Math.min(
        target.connectTimeoutMs ?? HOST_TEST_BUDGET_MS,
        HOST_TEST_BUDGET_MS,
      );
      await this.shell.withSession({ ...target, connectTimeoutMs }, (session) =>
        session.runChecked({
          argv: ['true'],
          timeoutMs: Math.max(1, HOST_TEST_BUDGET_MS - (Date.now() - started)),
        }),
      );
      return { ok: true };
    } catch (err) {
      // Our own wording already (e.g. a credential that does not decrypt).
      if (err instanceof DomainError) return { ok: false, reason: err.message };
      const node = target?.via === 'hop' ? target.node : undefined;
      if (err instanceof NodeShellError) {
        this.logger.warn({ hostId: host.id, node, kind: err.kind, err }, 'SSH check failed');
        // Through a hop, a command that fails is the relay failing: `true` itself cannot.
        if (node !== undefined && err.kind === NodeShellErrorKind.CommandFailed) {
          return { ok: false, reason: RELAY_FAILED };
        }
        return { ok: false, reason: SSH_REASONS[err.kind] };
      }
      this.logger.error({ hostId: host.id, node, err }, 'SSH check failed unexpectedly');
      return { ok: false, reason: 'unexpected error while contacting the host over SSH' };
    }
  }
}
