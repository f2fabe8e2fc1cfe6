/**
 * The channel manager's events as the event log keeps them (event-log.ts): flat fields, ids and
 * hashes in hex, amounts in decimal strings, a short_channel_id as `BLOCKxTXxOUTPUT`, and a
 * closed channel's reason as its kind, its words, and its own fields.
 */
import { type ChannelEvent, type ClosureReason, channelTypeName, htlcDeadlineText } from '@lnkit/manager';
import { formatShortChannelId } from '@lnkit/wire';
import type { NodeEventData } from './event-log.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function channelEventData(e: ChannelEvent): { kind: ChannelEvent['type']; data: NodeEventData } {
  switch (e.type) {
    case 'ChannelPending':
      return {
        kind: e.type,
        data: {
          channelId: hex(e.channelId),
          temporaryChannelId: hex(e.temporaryChannelId),
          peer: e.counterpartyNodeId,
          fundingTxid: e.fundingTxid,
          fundingOutputIndex: e.fundingOutputIndex,
          isFunder: e.isFunder,
        },
      };
    case 'ChannelReady':
      return {
        kind: e.type,
        data: {
          channelId: hex(e.channelId),
          peer: e.counterpartyNodeId,
          type: channelTypeName(e.channelType.type),
          scidAlias: e.channelType.scidAlias,
          shortChannelId: formatShortChannelId(e.shortChannelId),
          localAlias: formatShortChannelId(e.localAlias),
          remoteAlias: e.remoteAlias === undefined ? null : formatShortChannelId(e.remoteAlias),
          localBalanceMsat: e.localBalanceMsat.toString(),
          remoteBalanceMsat: e.remoteBalanceMsat.toString(),
        },
      };
    case 'ChannelClosed':
      return {
        kind: e.type,
        data: {
          channelId: hex(e.channelId),
          peer: e.counterpartyNodeId,
          reason: e.reason.kind,
          reasonText: describeReason(e.reason),
          ...reasonFields(e.reason),
        },
      };
  }
}

/** A closing reason's own fields, each as `reason` + its name (`reasonMessage`, `reasonField`, …). */
function reasonFields(r: ClosureReason): NodeEventData {
  const out: NodeEventData = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === 'kind') continue;
    const name = k === 'closingTxid' ? k : `reason${k[0]?.toUpperCase()}${k.slice(1)}`;
    out[name] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
  }
  return out;
}

/** In words, for the log and for users. */
export function describeReason(r: ClosureReason): string {
  switch (r.kind) {
    case 'counterparty-error':
      return `the peer sent an error: ${r.message}`;
    case 'protocol-violation':
      return `the peer broke the protocol (${r.field}): ${r.message}`;
    case 'persist-failed':
      return `a monitor update could not be persisted: ${r.message}`;
    case 'funding-failed':
      return `the funding transaction could not be built: ${r.message}`;
    case 'funding-timed-out':
      return `the funding did not confirm within ${r.blocks} blocks`;
    case 'disconnected-before-funding':
      return 'the peer disconnected before the channel was funded';
    case 'htlc-deadline':
      return htlcDeadlineText(r);
    case 'internal-error':
      return `internal error: ${r.message}`;
    case 'cooperative':
      return `closed cooperatively (started by the ${r.initiator} side) by ${r.closingTxid}`;
    case 'holder-force-closed':
      return `force-closed by us${r.commitmentTxid ? ` with ${r.commitmentTxid}` : ''}`;
    case 'funding-spent':
      return `the funding output was spent by ${r.spendingTxid}`;
    case 'not-resumed':
      return `not resumed after the restart: ${r.message}`;
    default:
      return (r as { kind: string }).kind;
  }
}
