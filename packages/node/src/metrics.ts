/**
 * The node's metrics as Prometheus text (format 0.0.4): every actor's (runtime's toPrometheus),
 * then the peer manager's limits, what they hold now and each hit counted, then the faults.
 * Names follow Prometheus' conventions: snake case, `_total` on counters.
 */
import { toPrometheus } from '@lnkit/runtime';
import type { NodeFaultKind } from './faults.ts';
import type { NodeMetrics } from './node.ts';

const FAULT_KINDS: readonly NodeFaultKind[] = ['storage-unavailable', 'log-unwritable'];

const snake = (camel: string) => camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** A label value: backslash, quote and newline escaped (Prometheus text format). */
const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** Forwards per outgoing channel: settled and failed counters, failures by reason, in flight, fees earned. */
function forwardLines(forwards: NodeMetrics['forwards'], lines: string[]): void {
  lines.push(
    '# HELP lnkit_forwards_total Forwards that ended, by outgoing channel and how (settled or failed)',
    '# TYPE lnkit_forwards_total counter',
  );
  for (const f of forwards) {
    const ch = label(f.channel);
    lines.push(`lnkit_forwards_total{channel="${ch}",status="settled"} ${f.settled}`);
    lines.push(`lnkit_forwards_total{channel="${ch}",status="failed"} ${f.failed}`);
  }
  lines.push(
    '# HELP lnkit_forward_failures_total Failed forwards by outgoing channel and BOLT 4 failure',
    '# TYPE lnkit_forward_failures_total counter',
  );
  for (const f of forwards)
    for (const [reason, n] of Object.entries(f.failures))
      lines.push(
        `lnkit_forward_failures_total{channel="${label(f.channel)}",reason="${label(reason)}"} ${n}`,
      );
  lines.push(
    '# HELP lnkit_forward_fees_msat_total Fees earned by settled forwards, msat, by outgoing channel',
    '# TYPE lnkit_forward_fees_msat_total counter',
  );
  for (const f of forwards)
    lines.push(`lnkit_forward_fees_msat_total{channel="${label(f.channel)}"} ${f.feeMsat}`);
  lines.push(
    '# HELP lnkit_forwards_in_flight Forwards offered downstream and not ended, by outgoing channel',
    '# TYPE lnkit_forwards_in_flight gauge',
  );
  for (const f of forwards)
    lines.push(`lnkit_forwards_in_flight{channel="${label(f.channel)}"} ${f.inFlight}`);
}

export function nodePrometheus(metrics: NodeMetrics): string {
  const lines: string[] = [];
  const peers = metrics.peers;
  if (peers) {
    lines.push(
      '# HELP lnkit_peer_limit A limit of the peer manager in force (its option name in the label)',
      '# TYPE lnkit_peer_limit gauge',
    );
    for (const [name, value] of Object.entries(peers.limits))
      lines.push(`lnkit_peer_limit{limit="${name}"} ${value}`);
    for (const [name, value] of Object.entries(peers.current)) {
      const metric = `lnkit_peer_${snake(name)}`;
      lines.push(
        `# HELP ${metric} Peer manager: ${name} now`,
        `# TYPE ${metric} gauge`,
        `${metric} ${value}`,
      );
    }
    for (const [name, value] of Object.entries(peers.counters)) {
      const metric = `lnkit_peer_${snake(name)}_total`;
      lines.push(
        `# HELP ${metric} Peer manager: ${name} since it started`,
        `# TYPE ${metric} counter`,
        `${metric} ${value}`,
      );
    }
  }
  forwardLines(metrics.forwards ?? [], lines);
  const threads = metrics.channelThreads ?? [];
  if (threads.length > 0) {
    lines.push(
      '# HELP lnkit_channel_thread_channels Channels stepping in each channel host thread',
      '# TYPE lnkit_channel_thread_channels gauge',
    );
    for (const [i, t] of threads.entries())
      lines.push(`lnkit_channel_thread_channels{thread="${i}"} ${t.channels}`);
  }
  lines.push(
    '# HELP lnkit_node_fault 1 while the fault of the machine lasts (info().faults), else 0',
    '# TYPE lnkit_node_fault gauge',
  );
  const now = new Set(metrics.faults.map((f) => f.kind));
  for (const kind of FAULT_KINDS) lines.push(`lnkit_node_fault{kind="${kind}"} ${now.has(kind) ? 1 : 0}`);
  return `${toPrometheus(metrics.actors)}${lines.join('\n')}\n`;
}
