/**
 * comlink speaks the DOM's MessageEvent shape ({ data }) over addEventListener; Node's
 * MessagePort and Worker emit the bare value on 'message'. This adapts one to the other.
 */

import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';

type Listener = (event: { data: unknown }) => void;

export function nodeEndpoint(port: MessagePort | Worker): Endpoint {
  const wrapped = new WeakMap<object, (value: unknown) => void>();
  return {
    postMessage(message: unknown, transfer?: unknown[]) {
      // biome-ignore lint/suspicious/noExplicitAny: Node's transfer list type differs from the DOM's.
      port.postMessage(message, transfer as any);
    },
    addEventListener(_type: string, listener: unknown) {
      const fn = (value: unknown) => {
        const l = listener as unknown as Listener | { handleEvent: Listener };
        if (typeof l === 'function') l({ data: value });
        else l.handleEvent({ data: value });
      };
      wrapped.set(listener as object, fn);
      port.on('message', fn);
    },
    removeEventListener(_type: string, listener: unknown) {
      const fn = wrapped.get(listener as object);
      if (fn) {
        port.off('message', fn);
        wrapped.delete(listener as object);
      }
    },
  } as unknown as Endpoint;
}
