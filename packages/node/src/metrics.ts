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
  lines.push(
    '# HELP lnkit_node_fault 1 while the fault of the machine lasts (info().faults), else 0',
    '# TYPE lnkit_node_fault gauge',
  );
  const now = new Set(metrics.faults.map((f) => f.kind));
  for (const kind of FAULT_KINDS) lines.push(`lnkit_node_fault{kind="${kind}"} ${now.has(kind) ? 1 : 0}`);
  return `${toPrometheus(metrics.actors)}${lines.join('\n')}\n`;
}
