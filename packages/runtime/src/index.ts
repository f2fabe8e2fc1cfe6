export {
  type ActorApi,
  type ActorContext,
  type ActorDefinition,
  type ActorRef,
  type ApiOf,
  type ConfigOf,
  defineActor,
} from './actor.ts';
export { type ActorModule, actorModule } from './actor-module.ts';
export { deserializeError, RuntimeError, type RuntimeErrorCode, serializeError } from './errors.ts';
export { type LocalOptions, spawnLocal } from './local.ts';
export {
  DEFAULT_LOG_MAX_BYTES,
  DEFAULT_LOG_MAX_FILES,
  LogFile,
  type LogFileFault,
  type LogFileOptions,
  type LogFileStats,
  logFileDestination,
} from './log-file.ts';
export {
  actorLogger,
  createRootLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  REDACTED_KEYS,
  stdoutDestination,
} from './logger.ts';
export {
  ActorMetrics,
  type ActorMetricsSnapshot,
  Histogram,
  type HistogramSnapshot,
  LATENCY_BUCKETS_MS,
  toPrometheus,
} from './metrics.ts';
export { type PortHandler, PortPeer } from './port-rpc.ts';
export { DEFAULT_RESTART_POLICY, type RestartPolicy } from './restart-policy.ts';
export type { Scheduler, Timer } from './scheduler.ts';
export { type ActorHandle, type Placement, type SpawnOptions, spawn } from './spawn.ts';
export {
  DEFAULT_STREAM_OPTIONS,
  exportStream,
  importStream,
  type StreamOptions,
  type StreamSource,
} from './stream-bridge.ts';
export type { ActorEvent, SupervisedStatus } from './supervised-actor.ts';
export { Supervisor, type SupervisorOptions } from './supervisor.ts';
