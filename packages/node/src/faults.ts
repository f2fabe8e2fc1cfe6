/**
 * What is wrong with the node's machine right now, as info().faults shows it: each kind at most
 * once, with when it began; cleared when it ends. Today: the data dir's storage refusing writes
 * (storage-status.ts), and the embedder's log file (lnkitd reports its own).
 */

export type NodeFaultKind =
  /** Writes to the data dir fail (a full disk, an I/O error): what needs a durable write waits. */
  | 'storage-unavailable'
  /** The log file cannot be written: log lines are dropped and counted. */
  | 'log-unwritable';

export interface NodeFault {
  kind: NodeFaultKind;
  message: string;
  /** When it began, ISO 8601. */
  since: string;
}

export class NodeFaults {
  private readonly faults = new Map<NodeFaultKind, NodeFault>();

  constructor(private readonly onChange?: (kind: NodeFaultKind, fault: NodeFault | null) => void) {}

  /** Records the fault (a new message for one already there keeps its start); true if it is new. */
  raise(kind: NodeFaultKind, message: string, now: number = Date.now()): boolean {
    const known = this.faults.get(kind);
    const fault = { kind, message, since: known?.since ?? new Date(now).toISOString() };
    this.faults.set(kind, fault);
    if (!known) this.onChange?.(kind, fault);
    return !known;
  }

  /** Ends the fault; true if there was one. */
  clear(kind: NodeFaultKind): boolean {
    if (!this.faults.delete(kind)) return false;
    this.onChange?.(kind, null);
    return true;
  }

  has(kind: NodeFaultKind): boolean {
    return this.faults.has(kind);
  }

  list(): NodeFault[] {
    return [...this.faults.values()].map((f) => ({ ...f }));
  }
}
