// The page's side of the protocol: typed calls that resolve with the worker's reply, and a
// listener for streamed events. Works with any MessagePort-like endpoint, so tests can use a fake.

import type { Api, Kind, FromWorker, RequestMsg, WorkerEvent } from './protocol';

export interface Endpoint {
  postMessage(msg: unknown): void;
  addEventListener(type: 'message', fn: (e: MessageEvent) => void): void;
  addEventListener(type: 'error', fn: (e: Event) => void): void;
}

/** A failed request; `message` is written for the user. */
export class WorkerError extends Error {}

export class WorkerClient {
  private nextId = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private listeners: ((e: WorkerEvent) => void)[] = [];

  constructor(private readonly endpoint: Endpoint) {
    endpoint.addEventListener('message', (e: MessageEvent) => this.receive(e.data as FromWorker));
    endpoint.addEventListener('error', () => {
      // A worker that failed to load answers nothing: fail every open request with a clear message.
      for (const p of this.pending.values()) p.reject(new WorkerError('The page\'s worker failed to start.'));
      this.pending.clear();
    });
  }

  call<K extends Kind>(kind: K, body: Api[K][0]): Promise<Api[K][1]> {
    const id = this.nextId++;
    const msg: RequestMsg<K> = { id, kind, body };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.endpoint.postMessage(msg);
    });
  }

  onEvent(fn: (e: WorkerEvent) => void): void {
    this.listeners.push(fn);
  }

  private receive(msg: FromWorker): void {
    if ('event' in msg) {
      for (const fn of this.listeners) fn(msg.event);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.body);
    else p.reject(new WorkerError(msg.error));
  }
}

/** Runs `fn` only for the latest call: replies to superseded calls are dropped (fast edits). */
export function latestOnly<A extends unknown[], R>(fn: (...a: A) => Promise<R>): (...a: A) => Promise<R | undefined> {
  let generation = 0;
  return async (...a: A) => {
    const mine = ++generation;
    const r = await fn(...a);
    return mine === generation ? r : undefined;
  };
}
