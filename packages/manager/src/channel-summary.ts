/** What `listChannels()` says of a channel: the API's and CLI's view (issue's `listchannels` fields). */
import { formatShortChannelId } from '@lnkit/wire';
import type { ChannelPhase, ChannelState } from './channel-state.ts';
import { channelTypeName } from './channel-type.ts';
import { initialBalancesMsat } from './commitments.ts';
import { fundingDepth } from './confirmation.ts';

export type ChannelStatus = 'opening' | 'awaiting-confirmation' | 'ready' | 'closing' | 'closed';

export interface ChannelSummary {
  /** BOLT 2 channel_id in hex; the temporary id until the funding outpoint is known. */
  channelId: string;
  temporaryChannelId: string;
  /** The counterparty's node id. */
  peer: string;
  state: ChannelStatus;
  /** The core's own phase, for logs and debugging. */
  phase: ChannelPhase;
  type: 'anchors' | 'static-remotekey';
  public: boolean;
  isFunder: boolean;
  capacitySat: bigint;
  localBalanceMsat: bigint;
  remoteBalanceMsat: bigint;
  /** `BLOCKxTXxOUTPUT`, once the funding reached minimum_depth. */
  shortChannelId: string | null;
  /** Display order. */
  fundingTxid: string | null;
  confirmations: number;
  minimumDepth: number;
  /** Display order; null until a closing transaction is agreed. */
  closingTxid: string | null;
  /**
   * Ready and reestablished with a connected peer: payments can go. Right after a reconnect the
   * channel is ready but not usable until the peer's channel_reestablish is handled (LDK's
   * `is_usable`).
   */
  usable: boolean;
  /** Why it closed, in words. */
  closedReason?: string | undefined;
}

const STATUS: Record<ChannelPhase, ChannelStatus> = {
  'awaiting-accept': 'opening',
  'awaiting-funding-tx': 'opening',
  signing: 'opening',
  'awaiting-funding-signed': 'opening',
  'awaiting-funding-created': 'opening',
  'awaiting-persist': 'opening',
  'awaiting-confirmation': 'awaiting-confirmation',
  ready: 'ready',
  shutdown: 'closing',
  negotiating: 'closing',
  closing: 'closing',
  closed: 'closed',
};

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export function summarize(s: ChannelState, closedReason?: string): ChannelSummary {
  const balances = s.commitments ?? initialBalancesMsat(s);
  return {
    channelId: hex(s.channelId ?? s.temporaryChannelId),
    temporaryChannelId: hex(s.temporaryChannelId),
    peer: s.counterpartyNodeId,
    state: STATUS[s.phase],
    phase: s.phase,
    type: channelTypeName(s.channelType.type),
    public: s.announce,
    isFunder: s.role === 'funder',
    capacitySat: s.fundingSat,
    localBalanceMsat: balances.toLocalMsat,
    remoteBalanceMsat: balances.toRemoteMsat,
    shortChannelId: s.shortChannelId === undefined ? null : formatShortChannelId(s.shortChannelId),
    fundingTxid: s.funding ? hex(Uint8Array.from(s.funding.outpoint.txid).reverse()) : null,
    confirmations: fundingDepth(s),
    minimumDepth: s.minimumDepth,
    closingTxid: s.forceClose?.commitmentTxid ?? s.close?.closingTxid ?? null,
    usable: s.phase === 'ready' && (s.normal?.link ?? s.link) === 'connected',
    closedReason,
  };
}
