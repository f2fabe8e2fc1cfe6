/**
 * The channel commands' human output (openchannel, listchannels, closechannel) from the API's
 * JSON, and the reading of GET /v1/events (server-sent events) into one line per event.
 * Amounts come as strings of digits (bigints).
 */

type Json = Record<string, unknown>;

interface ChannelOut {
  channelId: string;
  peer: string;
  state: string;
  type: string;
  public: boolean;
  capacitySat: string;
  localBalanceMsat: string;
  remoteBalanceMsat: string;
  shortChannelId: string | null;
  fundingTxid: string | null;
  isFunder?: boolean;
  confirmations?: number;
  minimumDepth?: number;
  closingTxid?: string | null;
  closedReason?: string | null;
  onchain?: {
    kind: string;
    spendTxid: string;
    confirmedAtHeight: number;
    outputs: {
      id: string;
      output: string;
      valueSat: string;
      status: string;
      claimableAtHeight?: number;
      spentByTxid?: string;
      spentAtHeight?: number;
    }[];
    pendingSweepSat: string;
    done: boolean;
  };
}

/** One output the node takes on chain, in words. */
function outputLine(o: NonNullable<ChannelOut['onchain']>['outputs'][number]): string {
  const what = `${o.output} ${o.valueSat} sat`;
  switch (o.status) {
    case 'pending':
      return `    ${what}: claimable at block ${o.claimableAtHeight}`;
    case 'needs-preimage':
      return `    ${what}: ours only with the HTLC's preimage, from block ${o.claimableAtHeight}`;
    case 'claimed':
      return `    ${what}: claimed by ${o.spentByTxid} at block ${o.spentAtHeight}`;
    default:
      return `    ${what}: taken by the peer in ${o.spentByTxid} at block ${o.spentAtHeight}`;
  }
}

export function openChannelText(out: Json): string {
  return [
    `channel ${out.channelId} opening`,
    `funding transaction ${out.fundingTxid} broadcast; the channel is ready after its confirmations (see listchannels)`,
  ].join('\n');
}

function channelLines(c: ChannelOut): string[] {
  const depth =
    c.confirmations !== undefined && c.minimumDepth !== undefined
      ? ` (${c.confirmations}/${c.minimumDepth} confirmations)`
      : '';
  const lines = [
    `${c.channelId}  ${c.state}  ${c.type}, ${c.public ? 'public' : 'private'}, ${c.capacitySat} sat  ${
      c.isFunder === undefined ? 'with' : c.isFunder ? 'opened by us to' : 'opened to us by'
    } ${c.peer}`,
    `  balance: local ${c.localBalanceMsat} msat, remote ${c.remoteBalanceMsat} msat`,
    `  funding: ${c.fundingTxid ?? 'not yet known'}${c.fundingTxid ? depth : ''}${
      c.shortChannelId ? `, short channel id ${c.shortChannelId}` : ''
    }`,
  ];
  if (c.closingTxid) lines.push(`  closing: ${c.closingTxid}`);
  if (c.closedReason) lines.push(`  closed:  ${c.closedReason}`);
  if (c.onchain) {
    const o = c.onchain;
    lines.push(
      `  on chain: ${o.kind} ${o.spendTxid} confirmed at block ${o.confirmedAtHeight}; ${
        o.done ? 'all resolved' : `${o.pendingSweepSat} sat still to sweep`
      }`,
      ...o.outputs.map(outputLine),
    );
  }
  return lines;
}

export function channelListText(out: Json): string {
  const channels = out.channels as ChannelOut[];
  if (channels.length === 0) return 'no channels';
  return channels.flatMap(channelLines).join('\n');
}

export function closeChannelText(out: Json): string {
  return out.closingTxid
    ? `channel ${out.channelId} closing; closing transaction ${out.closingTxid}`
    : `channel ${out.channelId} closing; the closing transaction is not agreed yet (see listchannels)`;
}

/** One server-sent event: its id, event name and data (the lines joined), as the WHATWG parser makes them. */
export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Splits a server-sent event stream into events as its chunks come (WHATWG HTML, "Parsing an
 * event stream"): comments (heartbeats) are skipped, a block with no data line dispatches nothing.
 */
export class SseParser {
  private buffer = '';

  push(chunk: string): SseEvent[] {
    this.buffer += chunk.replace(/\r\n?/g, '\n');
    const out: SseEvent[] = [];
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let id: string | undefined;
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = value;
        else if (field === 'event') event = value;
        else if (field === 'data') data.push(value);
      }
      if (data.length > 0) out.push({ id, event, data: data.join('\n') });
    }
    return out;
  }
}

interface EventRecord {
  seq: number;
  at: string;
  kind: string;
  data: Record<string, string | number | boolean | null>;
}

/** A line for an event: when, its seq and kind, then its fields as name=value. */
export function eventLine(e: SseEvent): string {
  let r: EventRecord;
  try {
    r = JSON.parse(e.data) as EventRecord;
  } catch {
    return `${e.id ?? '-'} ${e.event} ${e.data}`;
  }
  const fields = Object.entries(r.data ?? {}).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [r.at, `#${r.seq}`, r.kind, ...fields].join(' ');
}
