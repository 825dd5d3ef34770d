import { DomainError } from '../../common/errors/domain-error';
import { ProxmoxError, ProxmoxErrorKind } from '../../proxmox/gateway/proxmox-error';
import { NodeShellError, NodeShellErrorKind } from '../../proxmox/shell/shell-errors';
import { ForwardingConflictError } from '../../ports/forwarding-rules';
import { classifyFailure, DeployErrorCode, DeployStepError, scrubbed } from './deploy-errors';

describe('classifyFailure', () => {
  it.each([
    [new DeployStepError(DeployErrorCode.VmidConflict, 'x'), 'vmid_conflict'],
    [new DeployStepError(DeployErrorCode.NoAddress, 'x'), 'retryable'],
    [new ProxmoxError(ProxmoxErrorKind.Busy, 'x', 500), 'retryable'],
    [new ProxmoxError(ProxmoxErrorKind.InvalidRequest, 'x', 400), 'permanent'],
    [new NodeShellError(NodeShellErrorKind.ConnectionLost, 'x'), 'retryable'],
    [new NodeShellError(NodeShellErrorKind.CommandTimeout, 'x'), 'retryable'],
    [new NodeShellError(NodeShellErrorKind.CommandFailed, 'x'), 'retryable'],
    [new NodeShellError(NodeShellErrorKind.HostKeyMismatch, 'x'), 'permanent'],
    [new NodeShellError(NodeShellErrorKind.AuthFailed, 'x'), 'permanent'],
    [new ForwardingConflictError(30000, 'tcp'), 'permanent'],
    [DomainError.invalid('environment.X', 'is required'), 'permanent'],
    [new TypeError('a bug'), 'permanent'],
  ])('%s is %s', (error, expected) => {
    expect(classifyFailure(error)).toBe(expected);
  });

  it('scrubs the server-log text of a Proxmox error and keeps its class', () => {
    const error = new ProxmoxError(ProxmoxErrorKind.TaskFailed, 'failed: pw=hunter22', null, {
      taskReason: ProxmoxErrorKind.Busy,
    });
    const clean = scrubbed(error, ['hunter22']) as ProxmoxError;
    expect(clean.upstream).toBe('failed: pw=********');
    expect([clean.kind, clean.taskReason, clean.failureClass]).toEqual([
      ProxmoxErrorKind.TaskFailed,
      ProxmoxErrorKind.Busy,
      'retryable',
    ]);
  });
});
