import {
  classifyFailureText,
  classifyHttpError,
  failureClassOf,
  ProxmoxError,
  ProxmoxErrorKind,
} from './proxmox-error';
import { parseUpid } from './upid';

describe('Proxmox failure classification', () => {
  it.each([
    ["can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout", ProxmoxErrorKind.Busy],
    ["can't acquire lock '/var/run/vzdump.lock' - got timeout", ProxmoxErrorKind.Busy],
    ['CT is locked (backup)', ProxmoxErrorKind.Locked],
    ["CT 101 already exists on node 'pve2'", ProxmoxErrorKind.AlreadyExists],
    ["Configuration file 'nodes/pve1/lxc/101.conf' does not exist", ProxmoxErrorKind.NotFound],
    ['CT 101 already running', ProxmoxErrorKind.WrongState],
    ['something odd', ProxmoxErrorKind.Failed],
  ])('reads %j as %s', (text, kind) => {
    expect(classifyFailureText(text)).toBe(kind);
  });

  it.each([
    [500, "can't lock file '/run/lock/lxc/pve-config-101.lock' - got timeout", 'retryable'],
    [500, 'unexpected internal error', 'retryable'],
    [502, 'Bad Gateway', 'retryable'],
    [596, 'Connection timed out', 'retryable'],
    [500, "CT 101 already exists on node 'pve1'", 'vmid_conflict'],
    [400, 'Parameter verification failed.', 'permanent'],
    [403, 'Permission check failed', 'permanent'],
    [401, 'authentication failure', 'permanent'],
    [500, "Configuration file 'nodes/pve1/lxc/101.conf' does not exist", 'permanent'],
  ])('an HTTP %i %j is %s', (status, reason, expected) => {
    expect(failureClassOf(classifyHttpError(status, reason), status)).toBe(expected);
  });

  it('classes a failed task by what its exit status says', () => {
    const task = (exit: string) =>
      new ProxmoxError(ProxmoxErrorKind.TaskFailed, exit, null, {
        taskReason: classifyFailureText(exit),
      }).failureClass;
    expect(task("can't acquire lock '/var/run/vzdump.lock' - got timeout")).toBe('retryable');
    expect(task('startup for container failed')).toBe('retryable');
    expect(task("unable to create CT 101 - CT 101 already exists on node 'pve1'")).toBe(
      'vmid_conflict',
    );
    expect(task("unable to create CT 101 - volume 'local:vztmpl/x.tar.zst' does not exist")).toBe(
      'permanent',
    );
  });

  it('transport failures are retryable', () => {
    for (const kind of [ProxmoxErrorKind.Unreachable, ProxmoxErrorKind.Timeout]) {
      expect(new ProxmoxError(kind, 'x').failureClass).toBe('retryable');
    }
    expect(new ProxmoxError(ProxmoxErrorKind.TlsRejected, 'x').failureClass).toBe('permanent');
  });

  it('reads the node of a UPID and refuses malformed ones', () => {
    expect(parseUpid('UPID:pve2:0000A1B2:00C3D4E5:67890ABC:vzstart:101:root@pam:')).toEqual({
      node: 'pve2',
      type: 'vzstart',
      id: '101',
    });
    for (const bad of [
      'UPID:pve 2:0000A1B2:00C3D4E5:67890ABC:vzstart:101:root@pam:',
      'UPID:pve2:0000A1B2:00C3D4E5:67890ABC:vzstart:101:root@pam',
      'pve2',
    ]) {
      expect(() => parseUpid(bad)).toThrow(ProxmoxError);
    }
  });
});
