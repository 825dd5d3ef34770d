import { SeededRandom } from '../util/seeded-random';
import { GuestSystem } from './guest-system';

/** What the programs inside one running container can reach of the simulator. */
export interface GuestRuntime {
  readonly vmid: number;
  readonly guest: GuestSystem;
  hostname(): string;
  /** The container's address (127.77.x.y), or null without a network interface. */
  ip(): string | null;
  /** Docker needs `nesting=1` in an unprivileged container. */
  nestingAllowed(): boolean;
  readonly random: SeededRandom;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** How long a package download/installation takes: the task latency. */
  installDelay(): Promise<void>;
  /**
   * Makes the published ports of the compose projects listen (or stop
   * listening); returns the host ports that could not be bound, with the reason.
   */
  applyServices(): Promise<Map<number, string>>;
  /** A real HTTP GET to a simulated address, for `curl` inside the container. */
  httpGet(url: URL, timeoutMs: number): Promise<{ status: number; body: Buffer }>;
}
