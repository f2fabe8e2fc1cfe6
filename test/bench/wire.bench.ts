/**
 * Wire codec figures: decode and encode per second for the hot messages (gossip and
 * HTLC traffic), next to LDK's own codec (lightningdevkit, WASM) reading and writing
 * the same bytes. Before measuring, every message type LDK 0.1 also knows is
 * cross-checked: LDK must read our encoding and write back the very same bytes
 * (restricted to the fields and TLVs LDK 0.1 knows; see `forLdk`).
 */
import { secp } from '@lnkit/crypto';
import { decodeMessage, encodeMessage, type Message, type MessageKind } from '@lnkit/wire';
import * as ldk from 'lightningdevkit';
import { GENERATORS, Rng } from '../../packages/wire/src/test-support/random.ts';
import { initLdk } from '../support/ldk/ldk-peer.ts';
import { type Emit, opsPerSecondSync, round } from './harness.ts';

interface LdkMsg {
  write(): Uint8Array;
}
interface LdkResult {
  is_ok(): boolean;
}
type LdkClass = { constructor_read(ser: Uint8Array): LdkResult };

const LDK_CLASS: Partial<Record<MessageKind, string>> = {
  init: 'Init',
  error: 'ErrorMessage',
  warning: 'WarningMessage',
  ping: 'Ping',
  pong: 'Pong',
  stfu: 'Stfu',
  open_channel: 'OpenChannel',
  accept_channel: 'AcceptChannel',
  funding_created: 'FundingCreated',
  funding_signed: 'FundingSigned',
  channel_ready: 'ChannelReady',
  shutdown: 'Shutdown',
  closing_signed: 'ClosingSigned',
  update_add_htlc: 'UpdateAddHTLC',
  update_fulfill_htlc: 'UpdateFulfillHTLC',
  update_fail_htlc: 'UpdateFailHTLC',
  update_fail_malformed_htlc: 'UpdateFailMalformedHTLC',
  commitment_signed: 'CommitmentSigned',
  revoke_and_ack: 'RevokeAndACK',
  update_fee: 'UpdateFee',
  channel_reestablish: 'ChannelReestablish',
  announcement_signatures: 'AnnouncementSignatures',
  channel_announcement: 'ChannelAnnouncement',
  node_announcement: 'NodeAnnouncement',
  channel_update: 'ChannelUpdate',
  query_short_channel_ids: 'QueryShortChannelIds',
  reply_short_channel_ids_end: 'ReplyShortChannelIdsEnd',
  query_channel_range: 'QueryChannelRange',
  reply_channel_range: 'ReplyChannelRange',
  gossip_timestamp_filter: 'GossipTimestampFilter',
  open_channel2: 'OpenChannelV2',
  accept_channel2: 'AcceptChannelV2',
  tx_add_input: 'TxAddInput',
  tx_add_output: 'TxAddOutput',
  tx_remove_input: 'TxRemoveInput',
  tx_remove_output: 'TxRemoveOutput',
  tx_complete: 'TxComplete',
  tx_signatures: 'TxSignatures',
  tx_init_rbf: 'TxInitRbf',
  tx_ack_rbf: 'TxAckRbf',
  tx_abort: 'TxAbort',
  splice_init: 'SpliceInit',
  splice_ack: 'SpliceAck',
  splice_locked: 'SpliceLocked',
};

/** A minimal valid transaction (1 input, 1 output): LDK parses tx_add_input's prevtx. */
const PREVTX = Buffer.from(
  `02000000 01 ${'00'.repeat(32)} 00000000 00 ffffffff 01 e803000000000000 00 00000000`.replaceAll(' ', ''),
  'hex',
);
/** A serialized witness (2 items: a 71-byte signature, a 33-byte key): LDK parses tx_signatures' witnesses. */
const WITNESS = Buffer.from(`02 47 30${'11'.repeat(70)} 21 02${'22'.repeat(32)}`.replaceAll(' ', ''), 'hex');

function ldkClass(kind: MessageKind): LdkClass {
  const name = LDK_CLASS[kind];
  const cls = name ? (ldk as unknown as Record<string, LdkClass>)[name] : undefined;
  if (!cls) throw new Error(`no LDK class for ${kind}`);
  return cls;
}
function ldkRead(kind: MessageKind, payload: Uint8Array): LdkMsg {
  const res = ldkClass(kind).constructor_read(payload);
  if (!res.is_ok()) throw new Error(`LDK could not read our ${kind}`);
  return (res as unknown as { res: LdkMsg }).res;
}

const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Real curve points: LDK parses every key. */
const POINTS = Array.from({ length: 16 }, (_, i) => {
  const k = new Uint8Array(32);
  k[31] = i + 1;
  return secp.publicKey(k);
});

/**
 * A generated message made to fit what LDK 0.1 knows: valid points; no unknown TLVs and
 * none of the TLVs newer than LDK 0.1 (attribution_data, next_funding, funding_txid,
 * gossip_queries_ex flags, timestamps/checksums), which LDK drops on write; uncompressed
 * id lists (LDK refuses the deprecated zlib); UTF-8 error text; channel_update with
 * must_be_one set; a parseable prevtx and witnesses; no require_confirmed_inputs in the
 * RBF messages. LDK re-splits init's globalfeatures, so init is compared on the combined vector.
 */
function forLdk(msg: Message, r: Rng): Message {
  const m = { ...msg } as Record<string, unknown>;
  for (const [k, v] of Object.entries(m)) {
    if (v instanceof Uint8Array && v.length === 33 && (v[0] === 2 || v[0] === 3))
      m[k] = POINTS[r.int(POINTS.length)];
  }
  for (const k of [
    'unknownTlvs',
    'attributionData',
    'nextFunding',
    'myCurrentFundingLocked',
    'queryFlags',
    'queryOptionFlags',
    'timestamps',
    'checksums',
  ])
    delete m[k];
  if (msg.kind === 'commitment_signed') delete m.fundingTxid; // a TLV here (splicing), a fixed field elsewhere
  if (msg.kind === 'update_add_htlc') {
    const onion = msg.onionRoutingPacket.slice();
    onion[0] = 0;
    onion.set(POINTS[0] as Uint8Array, 1);
    m.onionRoutingPacket = onion;
  }
  if (msg.kind === 'error' || msg.kind === 'warning')
    m.data = new TextEncoder().encode('something went wrong');
  if (msg.kind === 'channel_update') m.messageFlags = msg.messageFlags | 1;
  if (msg.kind === 'tx_init_rbf' || msg.kind === 'tx_ack_rbf') delete m.requireConfirmedInputs; // LDK 0.1 lacks it here
  if (msg.kind === 'tx_add_input') {
    m.prevtx = new Uint8Array(PREVTX);
    delete m.sharedInputTxid;
  }
  if (msg.kind === 'tx_signatures') m.witnesses = msg.witnesses.map(() => new Uint8Array(WITNESS));
  if ('encodedShortIds' in msg && msg.encodedShortIds.encoding !== 'uncompressed')
    m.encodedShortIds = { encoding: 'uncompressed', items: [] };
  return m as unknown as Message;
}

function crossCheck(): number {
  const r = new Rng(0x1d4);
  let checked = 0;
  for (const kind of Object.keys(LDK_CLASS) as MessageKind[]) {
    for (let i = 0; i < 40; i++) {
      const msg = forLdk(GENERATORS[kind](r), r);
      const payload = encodeMessage(msg).subarray(2);
      const back = ldkRead(kind, payload).write();
      if (msg.kind === 'init') {
        // LDK writes globalfeatures as the low 13 bits of the combined vector: compare what it read.
        const again = decodeMessage(new Uint8Array([0, 16, ...back]));
        if (
          again.kind !== 'init' ||
          !again.globalFeatures.or(again.features).equals(msg.globalFeatures.or(msg.features))
        )
          throw new Error('LDK read different init features');
      } else if (toHex(back) !== toHex(payload)) {
        throw new Error(
          `LDK re-encoded our ${kind} differently:\n ours ${toHex(payload)}\n ldk  ${toHex(back)}`,
        );
      }
      checked++;
    }
  }
  return checked;
}

export default async function wire(emit: Emit): Promise<void> {
  await initLdk();
  const checked = crossCheck();
  emit({
    name: 'wire.ldk_crosscheck',
    value: checked,
    unit: 'messages',
    kinds: Object.keys(LDK_CLASS).length,
  });

  const r = new Rng(1);
  const samples: { label: string; kind: MessageKind; msg: Message }[] = [];
  const pick = (kind: MessageKind, label: string = kind, tweak?: (m: Message) => Message) => {
    let m = forLdk(GENERATORS[kind](r), r);
    if (tweak) m = tweak(m);
    samples.push({ label, kind, msg: m });
  };
  pick('channel_update');
  pick('channel_announcement');
  pick('node_announcement');
  pick('update_add_htlc');
  pick('commitment_signed', 'commitment_signed_30htlcs', (m) =>
    m.kind === 'commitment_signed' ? { ...m, htlcSignatures: Array.from({ length: 30 }, () => r.sig()) } : m,
  );
  pick('reply_channel_range', 'reply_channel_range_1000scids', (m) =>
    m.kind === 'reply_channel_range'
      ? {
          ...m,
          encodedShortIds: {
            encoding: 'uncompressed',
            items: Array.from({ length: 1000 }, (_, i) => BigInt(i + 1) << 40n),
          },
        }
      : m,
  );

  for (const s of samples) {
    const bytes = encodeMessage(s.msg);
    const payload = bytes.subarray(2);
    const decodeOps = opsPerSecondSync(() => decodeMessage(bytes), 400);
    const ldkDecodeOps = opsPerSecondSync(() => ldkRead(s.kind, payload), 400);
    // Not like for like: LDK's read parses every key and signature with libsecp256k1
    // (a curve check); ours checks only the point prefix and leaves keys to crypto.
    emit({
      name: 'wire.decode',
      message: s.label,
      bytes: bytes.length,
      value: round(decodeOps),
      unit: 'msgs/s',
      ldk: round(ldkDecodeOps),
      ratio: round(decodeOps / ldkDecodeOps, 2),
      ldkParsesKeys: true,
    });
    const ldkObj = ldkRead(s.kind, payload);
    const encodeOps = opsPerSecondSync(() => encodeMessage(s.msg), 400);
    const ldkEncodeOps = opsPerSecondSync(() => ldkObj.write(), 400);
    emit({
      name: 'wire.encode',
      message: s.label,
      bytes: bytes.length,
      value: round(encodeOps),
      unit: 'msgs/s',
      ldk: round(ldkEncodeOps),
      ratio: round(encodeOps / ldkEncodeOps, 2),
    });
  }
}
