import { Injectable } from '@nestjs/common';
import { isIPv4 } from 'node:net';
import type { Protocol } from '../catalog/catalog-app';
import { NodeShell, type ShellSession, type ShellTarget } from '../proxmox/shell/node-shell';
import { NodeShellError, NodeShellErrorKind } from '../proxmox/shell/shell-errors';
import { type NftForward, parseForwards } from './nft-ruleset';

const TABLE = 'proximity';
const CHAIN = 'prerouting';
const NFT_TIMEOUT_MS = 30_000;
/** The application id is written into an nft comment: only plain characters. */
const APPLICATION_ID = /^[A-Za-z0-9-]{1,64}$/;

export interface Forward {
  publicPort: number;
  protocol: Protocol;
  targetAddress: string;
  targetPort: number;
}

export interface ForwardingChange {
  added: number;
  removed: number;
  kept: number;
}

/** A public port that a rule of another owner (or none) already forwards: never taken over. */
export class ForwardingConflictError extends Error {
  constructor(
    readonly publicPort: number,
    readonly protocol: Protocol,
  ) {
    super(`public port ${publicPort}/${protocol} is already forwarded by another rule`);
    this.name = 'ForwardingConflictError';
  }
}

/** The comment that marks an application's rules, so they can be found and removed. */
export function ruleComment(applicationId: string): string {
  if (!APPLICATION_ID.test(applicationId)) throw new Error('invalid application id for a rule');
  return `proximity:${applicationId}`;
}

function sameForward(rule: NftForward, forward: Forward): boolean {
  return (
    rule.publicPort === forward.publicPort &&
    rule.protocol === forward.protocol &&
    rule.targetAddress === forward.targetAddress &&
    rule.targetPort === forward.targetPort
  );
}

function checkForward(forward: Forward): void {
  const port = (p: number) => Number.isInteger(p) && p >= 1 && p <= 65535;
  if (!port(forward.publicPort) || !port(forward.targetPort) || !isIPv4(forward.targetAddress)) {
    throw new Error('invalid forward');
  }
  if (forward.protocol !== 'tcp' && forward.protocol !== 'udp') throw new Error('invalid protocol');
}

/**
 * Port forwarding on a node with nftables: one DNAT rule per public port in
 * the `ip proximity` table's prerouting chain, each tagged with its
 * application's id in a comment. Applying and removing are idempotent: the
 * rules are read back and only the difference is changed.
 */
@Injectable()
export class ForwardingRules {
  constructor(private readonly shell: NodeShell) {}

  /** Makes the application's rules exactly `forwards`. */
  async apply(
    target: ShellTarget,
    applicationId: string,
    forwards: readonly Forward[],
  ): Promise<ForwardingChange> {
    const comment = ruleComment(applicationId);
    forwards.forEach(checkForward);
    return this.shell.withSession(target, async (session) => {
      await this.nft(session, ['add', 'table', 'ip', TABLE]);
      await this.nft(session, [
        'add',
        'chain',
        'ip',
        TABLE,
        CHAIN,
        '{ type nat hook prerouting priority dstnat; policy accept; }',
      ]);
      const rules = await this.readRules(session);
      const ours = rules.filter((r) => r.comment === comment);
      const stale = ours.filter((r) => !forwards.some((f) => sameForward(r, f)));
      const missing = forwards.filter((f) => !ours.some((r) => sameForward(r, f)));
      for (const forward of missing) {
        const taken = rules.some(
          (r) =>
            r.comment !== comment &&
            r.publicPort === forward.publicPort &&
            r.protocol === forward.protocol,
        );
        if (taken) throw new ForwardingConflictError(forward.publicPort, forward.protocol);
      }
      for (const rule of stale) await this.deleteRule(session, rule.handle);
      for (const f of missing) {
        await this.nft(session, [
          'add',
          'rule',
          'ip',
          TABLE,
          CHAIN,
          f.protocol,
          'dport',
          String(f.publicPort),
          'dnat',
          'to',
          `${f.targetAddress}:${f.targetPort}`,
          'comment',
          `"${comment}"`,
        ]);
      }
      return { added: missing.length, removed: stale.length, kept: ours.length - stale.length };
    });
  }

  /** Removes every rule of the application; 0 when there is none (or no table yet). */
  async remove(target: ShellTarget, applicationId: string): Promise<number> {
    const comment = ruleComment(applicationId);
    return this.shell.withSession(target, async (session) => {
      const ours = (await this.readRules(session)).filter((r) => r.comment === comment);
      for (const rule of ours) await this.deleteRule(session, rule.handle);
      return ours.length;
    });
  }

  /** Every forward of Proximity's chain on the node (for reconciliation). */
  async list(target: ShellTarget): Promise<NftForward[]> {
    return this.shell.withSession(target, (session) => this.readRules(session));
  }

  /**
   * Deletes the rules of Proximity's chain that have these handles and still
   * exist (nft never reuses a handle); how many were deleted.
   */
  async removeHandles(target: ShellTarget, handles: readonly number[]): Promise<number> {
    return this.shell.withSession(target, async (session) => {
      const present = (await this.readRules(session)).filter((r) => handles.includes(r.handle));
      for (const rule of present) await this.deleteRule(session, rule.handle);
      return present.length;
    });
  }

  private async readRules(session: ShellSession): Promise<NftForward[]> {
    try {
      const result = await session.runChecked({
        argv: ['nft', '-j', 'list', 'table', 'ip', TABLE],
        timeoutMs: NFT_TIMEOUT_MS,
      });
      return parseForwards(result.stdout, TABLE, CHAIN);
    } catch (err) {
      // No table yet: nothing was ever forwarded on this node.
      const missing =
        err instanceof NodeShellError &&
        err.kind === NodeShellErrorKind.CommandFailed &&
        /No such file or directory/.test(err.details.stderrTail ?? '');
      if (missing) return [];
      throw err;
    }
  }

  private async deleteRule(session: ShellSession, handle: number): Promise<void> {
    await this.nft(session, ['delete', 'rule', 'ip', TABLE, CHAIN, 'handle', String(handle)]);
  }

  private async nft(session: ShellSession, args: readonly string[]): Promise<void> {
    await session.runChecked({ argv: ['nft', ...args], timeoutMs: NFT_TIMEOUT_MS });
  }
}
