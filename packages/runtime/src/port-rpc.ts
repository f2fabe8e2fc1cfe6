/**
 * Calls both ways over one MessagePort of one's own, for actors that need a channel beside
 * their mailbox: a host of many small actors whose services live in the thread that placed them
 * there (@lnkit/manager's channel hosts). Hand one end of a MessageChannel to the other thread
 * (a worker actor's call may carry a port: it is moved, not copied) and make a PortPeer at each
 * end.
 *
 * One port carries everything, so each side hears the other's calls, notices and answers in the
 * order they were made: a notice sent before an answer is handled before that answer resolves
 * its call. Each side's handler is called as the message arrives (not queued behind the
 * handler's earlier calls, whose Promises may still be pending).
 */
import type { MessagePort } from 'node:worker_threads';
import { deserializeError, serializeError } from './errors.ts';

export type PortHandler = (method: string, args: unknown[]) => unknown;

type Wire =
  | { t: 'call'; id: number; method: string; args: unknown[] }
  | { t: 'notice'; method: string; args: unknown[] }
  | { t: 'answer'; id: number; ok: true; value: unknown }
  | { t: 'answer'; id: number; ok: false; error: ReturnType<typeof serializeError> };

export class PortPeer {
  readonly #port: MessagePort;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  #nextId = 1;
  #closed = false;

  constructor(port: MessagePort, handler: PortHandler) {
    this.#port = port;
    port.on('message', (m: Wire) => {
      switch (m.t) {
        case 'notice':
          try {
            void Promise.resolve(handler(m.method, m.args)).catch(() => {});
          } catch {
            // A notice has no one to answer: the handler logs its own failures.
          }
          return;
        case 'call': {
          let result: unknown;
          try {
            result = handler(m.method, m.args);
          } catch (err) {
            this.#answer({ t: 'answer', id: m.id, ok: false, error: serializeError(err) });
            return;
          }
          Promise.resolve(result).then(
            (value) => this.#answer({ t: 'answer', id: m.id, ok: true, value }),
            (err: unknown) => this.#answer({ t: 'answer', id: m.id, ok: false, error: serializeError(err) }),
          );
          return;
        }
        case 'answer': {
          const p = this.#pending.get(m.id);
          if (!p) return;
          this.#pending.delete(m.id);
          if (m.ok) p.resolve(m.value);
          else p.reject(deserializeError(m.error));
        }
      }
    });
    port.on('close', () => this.#end(new Error('the port closed')));
  }

  /** Calls `method` at the other end; resolves with what its handler returned (or resolved to). */
  call<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the port is closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#port.postMessage({ t: 'call', id, method, args } satisfies Wire);
    });
  }

  /** Tells the other end, wanting no answer. */
  notify(method: string, ...args: unknown[]): void {
    if (!this.#closed) this.#port.postMessage({ t: 'notice', method, args } satisfies Wire);
  }

  close(): void {
    this.#end(new Error('the port is closed'));
    this.#port.close();
  }

  #answer(a: Wire): void {
    if (!this.#closed) this.#port.postMessage(a);
  }

  #end(err: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}
