import { api } from '../api/client';
import { call, type Problem } from '../api/problem';
import type { components } from '../api/schema';
import { isActive, type Operation } from '../operations';
import { router } from './router.svelte';

type Application = components['schemas']['ApplicationDto'];

/**
 * One application as a screen shows it, with the operation the screen follows: the app's
 * current one, or the one an action just started. The API drops an operation from the app once
 * it ends, so its outcome (succeeded, or failed and why) is read once by its id.
 */
export class AppWatch {
  app = $state<Application | null>(null);
  problem = $state<Problem | null>(null);
  followed = $state<Operation | null>(null);
  readonly #id: string;

  constructor(id: string) {
    this.#id = id;
  }

  get active(): boolean {
    return this.followed !== null && isActive(this.followed);
  }

  async load(): Promise<void> {
    const r = await call(api.GET('/api/apps/{id}', { params: { path: { id: this.#id } } }));
    if (!r.ok) {
      // The delete the screen followed has removed the application: it is gone from the list too.
      if (r.problem.status === 404 && this.followed?.type === 'delete') {
        router.navigate('/apps', { replace: true });
        return;
      }
      this.problem = r.problem;
      return;
    }
    this.app = r.data;
    this.problem = null;
    if (r.data.operation) this.followed = r.data.operation;
    else if (this.followed && isActive(this.followed)) await this.#settle(this.followed.id);
  }

  /** An action the API accepted: show its operation at once, then follow it. */
  follow(op: Operation): Promise<void> {
    this.followed = op;
    return this.load();
  }

  async #settle(operationId: string): Promise<void> {
    const r = await call(
      api.GET('/api/operations/{id}', { params: { path: { id: operationId } } }),
    );
    if (r.ok) this.followed = r.data;
  }
}
