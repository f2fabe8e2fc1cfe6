/**
 * The on-chain resolution of a closed channel, persisted with its monitor (the monitor record's
 * field 22): a nested versioned record `chain-resolution`, so its layout can change on its own.
 * Every field a reader needs to keep claiming is even: an lnkit that cannot read one refuses
 * the record rather than lose track of an output (DESIGN.md: even = required).
 */

import { defineRecord, type FieldCodec, fieldCodec as f } from '@lnkit/store';
import type { ClaimInput, ClaimKey, ClaimWitnessKind } from '@lnkit/tx';
import type { ResolutionState } from './claim-tracker.ts';
import type {
  ChainResolution,
  ClaimSource,
  HolderHtlcTransaction,
  PendingOutput,
  ResolvedOutput,
} from './claims/types.ts';
import type { FundingSpendKind, HtlcData } from './types.ts';

/** Also the monitor record's: one list, so both store a funding spend kind as the same byte. */
export const spendKind = f.enum<FundingSpendKind>('funding spend kind', [
  'mutual-close',
  'holder-commitment',
  'counterparty-commitment',
  'counterparty-previous-commitment',
  'counterparty-revoked-commitment',
  'unknown-commitment',
]);
export const htlcDirection = f.enum<HtlcData['direction']>('HTLC direction', ['offered', 'received']);
const source = f.enum<ClaimSource>('claim source', [
  'holder-commitment',
  'holder-htlc-transaction',
  'counterparty-commitment',
  'revoked-commitment',
  'revoked-htlc-transaction',
]);
const outputKind = f.enum<PendingOutput['output']>('output kind', [
  'to_local',
  'to_remote',
  'htlc',
  'htlc-transaction-output',
]);
const witnessKind = f.enum<ClaimWitnessKind>('claim witness', [
  'to-local-delayed',
  'to-local-revocation',
  'offered-htlc-revocation',
  'received-htlc-revocation',
  'offered-htlc-preimage',
  'received-htlc-timeout',
  'to-remote',
  'to-remote-anchors',
]);
const htlcTxKind = f.enum<HolderHtlcTransaction['kind']>('HTLC transaction kind', [
  'htlc-timeout',
  'htlc-success',
]);
const keyKind = f.enum<ClaimKey['kind']>('claim key', ['delayed-payment', 'payment', 'htlc', 'revocation']);

const htlc = f.struct<HtlcData>('htlc', {
  id: { type: 0, codec: f.u64 },
  direction: { type: 2, codec: htlcDirection },
  amountMsat: { type: 4, codec: f.u64 },
  paymentHash: { type: 6, codec: f.bytes32 },
  cltvExpiry: { type: 8, codec: f.u32 },
});

const claimInput = f.struct<ClaimInput>('claim input', {
  txid: { type: 0, codec: f.bytes32 },
  vout: { type: 2, codec: f.u32 },
  valueSat: { type: 4, codec: f.u64 },
  witness: { type: 6, codec: witnessKind },
  witnessScript: { type: 8, codec: f.bytes, optional: true },
  pubkey: { type: 10, codec: f.point, optional: true },
  paymentPreimage: { type: 12, codec: f.bytes32, optional: true },
  csvDelay: { type: 14, codec: f.u16 },
  anchors: { type: 16, codec: f.bool },
});

interface KeyFields {
  kind: ClaimKey['kind'];
  perCommitmentPoint?: Uint8Array | undefined;
  perCommitmentSecret?: Uint8Array | undefined;
}
const keyFields = f.struct<KeyFields>('claim key', {
  kind: { type: 0, codec: keyKind },
  perCommitmentPoint: { type: 2, codec: f.point, optional: true },
  perCommitmentSecret: { type: 4, codec: f.bytes32, optional: true },
});
const claimKey: FieldCodec<ClaimKey> = {
  name: 'claim key',
  encode: (k) => keyFields.encode(k),
  decode: (b) => {
    const k = keyFields.decode(b);
    switch (k.kind) {
      case 'payment':
        return { kind: 'payment' };
      case 'revocation':
        if (!k.perCommitmentSecret) throw new RangeError('a revocation key without its secret');
        return { kind: 'revocation', perCommitmentSecret: k.perCommitmentSecret };
      default:
        if (!k.perCommitmentPoint) throw new RangeError(`a ${k.kind} key without its point`);
        return { kind: k.kind, perCommitmentPoint: k.perCommitmentPoint };
    }
  },
};

const htlcTransaction = f.struct<HolderHtlcTransaction>('holder HTLC transaction', {
  kind: { type: 0, codec: htlcTxKind },
  tx: { type: 2, codec: f.bytes },
  txidHex: { type: 4, codec: f.hex(32) },
  htlcWitnessScript: { type: 6, codec: f.bytes },
  htlcValueSat: { type: 8, codec: f.u64 },
  counterpartySignature: { type: 10, codec: f.fixed(64) },
  anchors: { type: 12, codec: f.bool },
  outputValueSat: { type: 14, codec: f.u64 },
  outputWitnessScript: { type: 16, codec: f.bytes },
});

const pending = f.struct<PendingOutput>('pending output', {
  id: { type: 0, codec: f.utf8 },
  source: { type: 2, codec: source },
  txidHex: { type: 4, codec: f.hex(32) },
  vout: { type: 6, codec: f.u32 },
  valueSat: { type: 8, codec: f.u64 },
  output: { type: 10, codec: outputKind },
  spendableAtHeight: { type: 12, codec: f.u32 },
  deadlineHeight: { type: 14, codec: f.u32, optional: true },
  htlc: { type: 16, codec: htlc, optional: true },
  input: { type: 18, codec: claimInput, optional: true },
  key: { type: 20, codec: claimKey, optional: true },
  locktime: { type: 22, codec: f.u32, optional: true },
  htlcTransaction: { type: 24, codec: htlcTransaction, optional: true },
  needsPreimage: { type: 26, codec: f.bool, optional: true },
});

const resolved = f.struct<ResolvedOutput>('resolved output', {
  id: { type: 0, codec: f.utf8 },
  spentByTxidHex: { type: 2, codec: f.hex(32) },
  height: { type: 4, codec: f.u32 },
  byHolder: { type: 6, codec: f.bool },
  output: { type: 8, codec: pending },
  paymentPreimage: { type: 10, codec: f.bytes32, optional: true },
});

const resolution = f.struct<ChainResolution>('chain resolution', {
  commitmentTxidHex: { type: 0, codec: f.hex(32) },
  kind: { type: 2, codec: spendKind },
  // -1 for a mutual close (no commitment number).
  commitmentNumber: { type: 4, codec: f.s64 },
  height: { type: 6, codec: f.u32 },
  perCommitmentPoint: { type: 8, codec: f.bytes },
  pending: { type: 10, codec: f.list(pending) },
  resolved: { type: 12, codec: f.list(resolved) },
  htlcsWithoutOutput: { type: 14, codec: f.list(htlc) },
  // Only for the user: a reader may skip them.
  notes: { type: 17, codec: f.list(f.utf8) },
});

const resolutionRecord = defineRecord<ResolutionState>({
  kind: 'chain-resolution',
  version: 1,
  minReadVersion: 1,
  fields: {
    resolution: { type: 0, codec: resolution },
    destinationScript: { type: 2, codec: f.bytes },
    doneAtHeight: { type: 4, codec: f.u32, optional: true },
  },
});

export const encodeResolution = (s: ResolutionState): Uint8Array => resolutionRecord.encode(s);
export const decodeResolution = (bytes: Uint8Array): ResolutionState => resolutionRecord.decode(bytes);
