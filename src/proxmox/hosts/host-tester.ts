import { Injectable } from '@nestjs/common';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { DomainError } from '../../common/errors/domain-error';
import { ProxmoxGateway } from '../gateway/proxmox-gateway';
import { NodeShell } from '../shell/node-shell';
import { NodeShellError, NodeShellErrorKind } from '../shell/shell-errors';
import type { HostTestResult, SshTestResult } from './hosts.dto';
import { HostsService } from './hosts.service';
import type { ProxmoxHost } from './proxmox-host.entity';

/**
 * Both checks run in parallel within this budget, so that the answer comes
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

/** `POST /api/proxmox/hosts/:id/test`: does the host answer, over the API and over SSH? */
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
    const [api, ssh] = await Promise.all([this.testApi(host), this.testSsh(host)]);
    return { ...api, ok: api.ok && ssh.ok, ssh };
  }

  private async testApi(host: ProxmoxHost): Promise<Omit<HostTestResult, 'ssh'>> {
    const started = Date.now();
    try {
      const connection = this.hosts.connectionFor(host);
      const { version } = await this.gateway.version({
        ...connection,
        timeoutMs: Math.min(connection.timeoutMs, HOST_TEST_BUDGET_MS),
        // Also ends the read retry: one budget for the whole check.
        signal: AbortSignal.timeout(HOST_TEST_BUDGET_MS),
      });
      return { ok: true, version, latencyMs: Date.now() - started };
    } catch (err) {
      return { ok: false, reason: this.hosts.reasonOf(err, host) };
    }
  }

  private async testSsh(host: ProxmoxHost): Promise<SshTestResult> {
    const started = Date.now();
    try {
      const target = this.hosts.shellTargetFor(host);
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
      if (err instanceof NodeShellError) {
        this.logger.warn({ hostId: host.id, kind: err.kind, err }, 'SSH check failed');
        return { ok: false, reason: SSH_REASONS[err.kind] };
      }
      this.logger.error({ hostId: host.id, err }, 'SSH check failed unexpectedly');
      return { ok: false, reason: 'unexpected error while contacting the host over SSH' };
    }
  }
}
