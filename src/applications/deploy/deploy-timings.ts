import { Injectable } from '@nestjs/common';

/** Deadlines and poll intervals of the deploy steps; tests shorten the polls, never the logic. */
@Injectable()
export class DeployTimings {
  /** A Proxmox task (create, start, stop, destroy). */
  taskDeadlineMs = 5 * 60_000;
  /** eth0's address after the start (a DHCP lease can take a while). */
  addressDeadlineMs = 2 * 60_000;
  /** Every service running and every port answering after `compose up`. */
  verifyDeadlineMs = 3 * 60_000;
  /** A `create` lock of our own create, left by an attempt that died. */
  createLockDeadlineMs = 5 * 60_000;
  /** A clean shutdown before the hard stop. */
  shutdownTimeoutSeconds = 60;
  pollMs = 1_000;
  /** One TCP connect of the port check. */
  connectTimeoutMs = 3_000;

  /** Defaults with some values replaced (the constructor takes none, for Nest's injector). */
  static with(overrides: Partial<DeployTimings>): DeployTimings {
    return Object.assign(new DeployTimings(), overrides);
  }
}
