/**
 * Runs inside an actor's worker thread: loads the actor module and exposes its host through
 * comlink. The module is loaded by init, not at the top, so that one that cannot be loaded, or
 * defines another actor than its descriptor named, is an actor-init-failed answer to spawn()
 * rather than an uncaught error in a thread that then looks like a crash.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { loadActorModule } from './actor-module.ts';
import { nodeEndpoint } from './endpoint.ts';
import { type SerializedError, serializeError } from './errors.ts';
import { ActorHost } from './host.ts';
import { logFileDestination } from './log-file.ts';
import { actorLogger, createRootLogger, type LogLevel } from './logger.ts';
import type { StreamOptions } from './stream-bridge.ts';

export type CallResult = { ok: true; value: unknown } | { ok: false; error: SerializedError };

export interface WorkerData {
  actorModule: string;
  /** The name its descriptor gave; the definition must have it. */
  expectedName?: string;
  name: string;
  restarts: number;
  logLevel: LogLevel;
  logFile?: string;
  stream?: StreamOptions;
}

const data = workerData as WorkerData;
// The main thread rotates the file it shares with the workers; a worker follows the rotation,
// and a full disk drops its lines rather than killing the thread (log-file.ts).
const root = createRootLogger({
  level: data.logLevel,
  ...(data.logFile ? { destination: logFileDestination(data.logFile, { rotate: false }) } : {}),
});
let loaded: ActorHost | undefined;
// Every other request comes after init has answered ok.
const host = (): ActorHost => loaded!;

const exposed = {
  init: async (config: unknown): Promise<CallResult> => {
    try {
      const definition = await loadActorModule(data.actorModule, data.expectedName);
      loaded = new ActorHost(
        definition,
        {
          name: data.name,
          placement: 'worker',
          logger: actorLogger(root, data.name),
          restarts: data.restarts,
        },
        data.stream,
      );
      return { ok: true, value: await loaded.init(config) };
    } catch (e) {
      return { ok: false, error: serializeError(e) };
    }
  },
  // comlink keeps only name/message/stack of a thrown error; errors cross as data instead,
  // so `code` and other fields survive.
  call: async (name: string, args: unknown[]): Promise<CallResult> => {
    try {
      return { ok: true, value: await host().call(name, args) };
    } catch (e) {
      return { ok: false, error: serializeError(e) };
    }
  },
  stream: (name: string, args: unknown[], port: import('node:worker_threads').MessagePort) =>
    host().stream(name, args, port),
  snapshot: () => host().snapshot(),
  profile: (seconds: number, path: string) => host().profile(seconds, path),
  // A stop during a create() that never finished has nothing to stop.
  stop: async () => loaded?.stop(),
};
export type ExposedHost = typeof exposed;

Comlink.expose(exposed, nodeEndpoint(parentPort!));
