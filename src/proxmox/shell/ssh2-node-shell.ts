import { Injectable } from '@nestjs/common';
import { Socket } from 'node:net';
import { Client } from 'ssh2';
import { prepareCommand } from './command-line';
import { planConnection } from './connection-plan';
import {
  checkExit,
  NodeShell,
  ShellCommand,
  ShellResult,
  ShellSession,
  ShellTarget,
} from './node-shell';
import { Ssh2Connection } from './ssh2-connection';

class Ssh2Session implements ShellSession {
  constructor(
    private readonly connection: Ssh2Connection,
    private readonly target: ShellTarget,
  ) {}

  get hostKeyFingerprint(): string {
    return this.connection.hostKeyFingerprint;
  }

  async run(command: ShellCommand): Promise<ShellResult> {
    return this.connection.exec(prepareCommand(this.target, command), command);
  }

  async runChecked(command: ShellCommand): Promise<ShellResult> {
    return checkExit(await this.run(command), this.target, command);
  }
}

/**
 * NodeShell over ssh2. Nothing is logged here: callers know which parts of a
 * command are secret, this adapter does not.
 */
@Injectable()
export class Ssh2NodeShell extends NodeShell {
  async run(target: ShellTarget, command: ShellCommand): Promise<ShellResult> {
    // Refuse a bad command before connecting, not after.
    prepareCommand(target, command);
    return this.withSession(target, (session) => session.run(command));
  }

  override async withSession<T>(
    target: ShellTarget,
    work: (session: ShellSession) => Promise<T>,
  ): Promise<T> {
    const plan = planConnection(target);
    const connection = await Ssh2Connection.open(plan, target, this.createSocket(), new Client());
    let failed = true;
    try {
      const result = await work(new Ssh2Session(connection, target));
      failed = false;
      return result;
    } finally {
      // A failed session may have a command still running: cut it off.
      await (failed ? connection.destroy() : connection.close());
    }
  }

  /** Test seam: the TCP socket of each connection, so tests can check that every one gets closed. */
  protected createSocket(): Socket {
    return new Socket();
  }
}
