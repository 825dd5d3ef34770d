import type { Response } from 'supertest';
import type TestAgent from 'supertest/lib/agent';
import type { TestApp } from './test-app';

export interface RecordedResponse {
  /** `METHOD /path` of the request, with the order it was answered in. */
  label: string;
  status: number;
  headers: string;
  body: string;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

interface Emitter {
  on(event: 'response', listener: (res: Response) => void): unknown;
}

/** Keeps every answer a test received through its agents, headers and raw body. */
export class ResponseRecorder {
  readonly responses: RecordedResponse[] = [];
  private readonly byResponse = new WeakMap<Response, RecordedResponse>();

  /** The same test app, whose every request is recorded (also those of the support helpers). */
  app(t: TestApp): TestApp {
    return { ...t, http: () => this.agent(t.http()) };
  }

  /** The record of one answer, to name the secrets it may carry. */
  recordOf(res: Response): RecordedResponse {
    const record = this.byResponse.get(res);
    if (!record) throw new Error('this response was not received through the recorder');
    return record;
  }

  private agent(agent: TestAgent): TestAgent {
    return new Proxy(agent, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof property !== 'string' || !METHODS.has(property) || typeof value !== 'function')
          return value;
        return (url: string, ...rest: unknown[]) => {
          const test = (value as (...args: unknown[]) => Emitter).call(target, url, ...rest);
          test.on('response', (res) => this.record(`${property.toUpperCase()} ${url}`, res));
          return test;
        };
      },
    });
  }

  private record(request: string, res: Response): void {
    const record: RecordedResponse = {
      label: `#${this.responses.length + 1} ${request}`,
      status: res.status,
      headers: JSON.stringify(res.headers),
      body: res.text ?? JSON.stringify(res.body ?? null),
    };
    this.responses.push(record);
    this.byResponse.set(res, record);
  }
}
