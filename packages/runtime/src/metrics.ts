/**
 * Per-actor metrics: messages in/out, handling latency histogram, queue and mailbox depth, event-loop
 * utilisation. Collected inside the actor's thread; read as plain-object snapshots.
 */
import { type EventLoopUtilization, performance } from 'node:perf_hooks';

/** Upper bounds of the latency buckets, in milliseconds (log-spaced, Prometheus style). */
export const LATENCY_BUCKETS_MS = [
  0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
];

export interface HistogramSnapshot {
  bucketsMs: number[];
  /** counts[i] = observations <= bucketsMs[i]; the last entry counts those above every bucket. */
  counts: number[];
  count: number;
  sumMs: number;
  p50Ms: number;
  p99Ms: number;
}

export class Histogram {
  private readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private count = 0;
  private sumMs = 0;

  observe(ms: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sumMs += ms;
  }

  private quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return LATENCY_BUCKETS_MS[i] ?? Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }

  snapshot(): HistogramSnapshot {
    return {
      bucketsMs: [...LATENCY_BUCKETS_MS],
      counts: [...this.counts],
      count: this.count,
      sumMs: this.sumMs,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
    };
  }
}

export interface ActorMetricsSnapshot {
  actor: string;
  placement: 'worker' | 'in-process';
  /** Fraction of time the actor's event loop was busy since the previous snapshot (0..1). */
  eventLoopUtilization: number;
  messagesIn: number;
  messagesOut: number;
  /** Calls received and not yet answered: waiting in the mailbox, running, or running concurrently. */
  queueDepth: number;
  /** Of those, the calls waiting their turn in the mailbox (not started yet). */
  mailboxDepth: number;
  /** Stream items waiting in producer buffers for the consumer's credit. */
  streamBuffered: number;
  latency: HistogramSnapshot;
  restarts: number;
  errors: number;
  heapUsedBytes: number;
}

export class ActorMetrics {
  messagesIn = 0;
  messagesOut = 0;
  /** Calls received and not answered (mailbox + running). */
  inFlight = 0;
  /** Calls waiting in the mailbox, not started. */
  mailboxWaiting = 0;
  errors = 0;
  streamBuffered = 0;
  readonly latency = new Histogram();
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();

  constructor(
    readonly actor: string,
    readonly placement: 'worker' | 'in-process',
  ) {}

  snapshot(restarts = 0): ActorMetricsSnapshot {
    const now = performance.eventLoopUtilization();
    const delta = performance.eventLoopUtilization(now, this.lastElu);
    this.lastElu = now;
    return {
      actor: this.actor,
      placement: this.placement,
      eventLoopUtilization: Number.isFinite(delta.utilization) ? delta.utilization : 0,
      messagesIn: this.messagesIn,
      messagesOut: this.messagesOut,
      queueDepth: this.inFlight,
      mailboxDepth: this.mailboxWaiting,
      streamBuffered: this.streamBuffered,
      latency: this.latency.snapshot(),
      restarts,
      errors: this.errors,
      heapUsedBytes: process.memoryUsage().heapUsed,
    };
  }
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Prometheus text exposition (version 0.0.4) of a set of actor snapshots. */
export function toPrometheus(snapshots: readonly ActorMetricsSnapshot[]): string {
  const lines: string[] = [];
  const gauge = (
    name: string,
    help: string,
    type: 'gauge' | 'counter',
    pick: (s: ActorMetricsSnapshot) => number,
  ) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const s of snapshots) lines.push(`${name}{actor="${escapeLabel(s.actor)}"} ${pick(s)}`);
  };
  gauge(
    'lnkit_actor_event_loop_utilization',
    'Event-loop utilisation of the actor thread',
    'gauge',
    (s) => s.eventLoopUtilization,
  );
  gauge('lnkit_actor_messages_in_total', 'Messages received by the actor', 'counter', (s) => s.messagesIn);
  gauge('lnkit_actor_messages_out_total', 'Messages sent by the actor', 'counter', (s) => s.messagesOut);
  gauge('lnkit_actor_queue_depth', 'Calls received and not yet answered', 'gauge', (s) => s.queueDepth);
  gauge(
    'lnkit_actor_mailbox_depth',
    'Calls waiting in the mailbox for the one before to finish',
    'gauge',
    (s) => s.mailboxDepth,
  );
  gauge(
    'lnkit_actor_restarts_total',
    'Restarts of the actor by its supervisor',
    'counter',
    (s) => s.restarts,
  );
  gauge('lnkit_actor_errors_total', 'Calls that ended in an error', 'counter', (s) => s.errors);
  lines.push(
    '# HELP lnkit_actor_handling_seconds Time the actor spent answering a call',
    '# TYPE lnkit_actor_handling_seconds histogram',
  );
  for (const s of snapshots) {
    const a = escapeLabel(s.actor);
    let cumulative = 0;
    s.latency.bucketsMs.forEach((b, i) => {
      cumulative += s.latency.counts[i]!;
      lines.push(`lnkit_actor_handling_seconds_bucket{actor="${a}",le="${b / 1000}"} ${cumulative}`);
    });
    lines.push(`lnkit_actor_handling_seconds_bucket{actor="${a}",le="+Inf"} ${s.latency.count}`);
    lines.push(`lnkit_actor_handling_seconds_sum{actor="${a}"} ${s.latency.sumMs / 1000}`);
    lines.push(`lnkit_actor_handling_seconds_count{actor="${a}"} ${s.latency.count}`);
  }
  return `${lines.join('\n')}\n`;
}
