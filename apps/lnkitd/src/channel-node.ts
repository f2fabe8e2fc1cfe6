/**
 * What the daemon uses of the node for channels and events: the shape of LnkitNode's channel
 * API (openChannel, listChannels, closeChannel, events), declared here as the daemon reads it so
 * that its tests can hand it a node of their own.
 */
import type { ChannelOnchain } from '@lnkit/node';

export interface OpenChannelOptions {
  pushMsat?: bigint;
  type?: 'anchors' | 'static-remotekey';
  public?: boolean;
}

/** A channel as listChannels() gives it (@lnkit/manager's ChannelSummary, the fields read here). */
export interface ChannelView {
  channelId: string;
  peer: string;
  state: 'opening' | 'awaiting-confirmation' | 'ready' | 'closing' | 'closed';
  type: 'anchors' | 'static-remotekey';
  public: boolean;
  isFunder: boolean;
  capacitySat: bigint;
  localBalanceMsat: bigint;
  remoteBalanceMsat: bigint;
  shortChannelId: string | null;
  fundingTxid: string | null;
  confirmations: number;
  minimumDepth: number;
  closingTxid: string | null;
  closedReason?: string | undefined;
  /** Once the funding is spent: the spend and each output this node takes. */
  onchain?: ChannelOnchain;
}

/** One persisted node event: `seq` grows by one per event and is never reused. */
export interface NodeEventRecord {
  seq: number;
  /** ISO 8601. */
  at: string;
  kind: string;
  data: Record<string, string | number | boolean | null>;
}

/** The smallest part of an Observable the event stream needs (rxjs's, or a test's own). */
export interface EventSource {
  subscribe(observer: {
    next: (record: NodeEventRecord) => void;
    error?: (err: unknown) => void;
    complete?: () => void;
  }): { unsubscribe(): void };
}

export interface NodeEvents {
  /** The events not yet handled, oldest first. */
  pending(): Promise<NodeEventRecord[]> | NodeEventRecord[];
  /** The events kept with a seq above `seq`, oldest first. */
  since(seq: number): Promise<NodeEventRecord[]> | NodeEventRecord[];
  /** Each event as it is recorded. */
  readonly stream$: EventSource;
}

export interface ChannelNode {
  readonly nodeId: string;
  openChannel(
    nodeId: string,
    amountSat: bigint,
    opts?: OpenChannelOptions,
  ): Promise<{ channelId: string; fundingTxid: string }>;
  listChannels(): Promise<ChannelView[]>;
  closeChannel(
    channelId: string,
    opts?: { force?: boolean },
  ): Promise<{ channelId: string; closingTxid: string | null }>;
  readonly events: NodeEvents;
}
