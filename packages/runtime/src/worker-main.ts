/** Runs inside an actor's worker thread: loads the actor module and exposes its host through comlink. */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { pino } from 'pino';
import type { ActorApi, ActorDefinition } from './actor.ts';
import { nodeEndpoint } from './endpoint.ts';
import { type SerializedError, serializeError } from './errors.ts';
import { ActorHost } from './host.ts';
import { actorLogger, createRootLogger, type LogLevel } from './logger.ts';
import type { StreamOptions } from './stream-bridge.ts';

export type CallResult = { ok: true; value: unknown } | { ok: false; error: SerializedError };

export interface WorkerData {
  actorModule: string;
  name: string;
  restarts: number;
  logLevel: LogLevel;
  logFile?: string;
  stream?: StreamOptions;
}

const data = workerData as WorkerData;
const mod = (await import(data.actorModule)) as { default: ActorDefinition<unknown, ActorApi> };
const root = createRootLogger({
  level: data.logLevel,
  ...(data.logFile
    ? { destination: pino.destination({ dest: data.logFile, append: true, sync: false }) }
    : {}),
});
const host = new ActorHost(
  mod.default,
  { name: data.name, placement: 'worker', logger: actorLogger(root, data.name), restarts: data.restarts },
  data.stream,
);

const exposed = {
  init: async (config: unknown): Promise<CallResult> => {
    try {
      return { ok: true, value: await host.init(config) };
    } catch (e) {
      return { ok: false, error: serializeError(e) };
    }
  },
  // comlink keeps only name/message/stack of a thrown error; errors cross as data instead,
  // so `code` and other fields survive.
  call: async (name: string, args: unknown[]): Promise<CallResult> => {
    try {
      return { ok: true, value: await host.call(name, args) };
    } catch (e) {
      return { ok: false, error: serializeError(e) };
    }
  },
  stream: (name: string, args: unknown[], port: import('node:worker_threads').MessagePort) =>
    host.stream(name, args, port),
  snapshot: () => host.snapshot(),
  profile: (seconds: number, path: string) => host.profile(seconds, path),
  stop: () => host.stop(),
};
export type ExposedHost = typeof exposed;

Comlink.expose(exposed, nodeEndpoint(parentPort!));
