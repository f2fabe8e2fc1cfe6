// BOLT 7 "Definition of short_channel_id": 3 bytes block height, 3 bytes transaction
// index, 2 bytes output index, as one big-endian u64 (a bigint here).
import { WireError } from './errors.ts';

export interface ShortChannelIdParts {
  readonly block: number;
  readonly txIndex: number;
  readonly outputIndex: number;
}

export function shortChannelId(block: number, txIndex: number, outputIndex: number): bigint {
  if (!Number.isInteger(block) || block < 0 || block > 0xff_ffff)
    throw new WireError('invalid-value', 'short_channel_id block out of range');
  if (!Number.isInteger(txIndex) || txIndex < 0 || txIndex > 0xff_ffff)
    throw new WireError('invalid-value', 'short_channel_id tx index out of range');
  if (!Number.isInteger(outputIndex) || outputIndex < 0 || outputIndex > 0xffff)
    throw new WireError('invalid-value', 'short_channel_id output index out of range');
  return (BigInt(block) << 40n) | (BigInt(txIndex) << 16n) | BigInt(outputIndex);
}

export function scidBlock(scid: bigint): number {
  return Number((scid >> 40n) & 0xff_ffffn);
}
export function scidTxIndex(scid: bigint): number {
  return Number((scid >> 16n) & 0xff_ffffn);
}
export function scidOutputIndex(scid: bigint): number {
  return Number(scid & 0xffffn);
}

export function scidParts(scid: bigint): ShortChannelIdParts {
  return { block: scidBlock(scid), txIndex: scidTxIndex(scid), outputIndex: scidOutputIndex(scid) };
}

/** BOLT 7 human-readable form: `block x tx x output`, e.g. `539268x845x1`. */
export function formatShortChannelId(scid: bigint): string {
  return `${scidBlock(scid)}x${scidTxIndex(scid)}x${scidOutputIndex(scid)}`;
}

export function parseShortChannelId(text: string): bigint {
  const m = /^(\d+)x(\d+)x(\d+)$/.exec(text);
  if (!m) throw new WireError('invalid-value', 'short_channel_id must look like BLOCKxTXxOUTPUT');
  return shortChannelId(Number(m[1]), Number(m[2]), Number(m[3]));
}
