/**
 * BlockSource (LDK guide step 10/15): where blocks come from. Small on purpose so a user can bring
 * their own (bitcoind RPC and REST are provided; Esplora is the Confirm/Filter path instead).
 *
 * Hash byte order: every `...HashHex` is the **display** order, as bitcoind prints it (the byte
 * reverse of the double-SHA256). Raw bytes (`header`) are the 80 serialized header bytes, where
 * `prevBlock` sits in internal order.
 */
import { Block, type Transaction } from 'bitcoinjs-lib';
import { ChainSyncError } from './errors.ts';

export interface BlockHeaderData {
  /** Display-order hex of this block's hash. */
  hashHex: string;
  /** Display-order hex of the previous block's hash. */
  prevHashHex: string;
  height: number;
  /** The 80 serialized header bytes. */
  header: Uint8Array;
  /** Header timestamp (seconds). */
  time: number;
}

export interface BlockData {
  header: BlockHeaderData;
  /** The transactions of the block, in block order, parsed. */
  txdata: Transaction[];
}

export interface BestBlock {
  hashHex: string;
  height: number;
}

export interface BlockSource {
  /** A name for logs and errors: the source's URL without credentials. */
  readonly description: string;
  getBestBlock(): Promise<BestBlock>;
  /** Any known header, also one off the active chain (needed to walk back a reorg). */
  getHeader(hashHex: string): Promise<BlockHeaderData>;
  getBlock(hashHex: string): Promise<BlockData>;
  /**
   * Display-order hex of the active chain's block at `height`. A node asks for height 0, the
   * genesis block, to check the source is on the network it was configured for before it
   * writes anything. Optional so that existing sources keep compiling; a node given a source
   * without it cannot make that check, and says so in its log.
   */
  getBlockHash?(height: number): Promise<string>;
}

/** Display-order hex of an internal-order hash. */
export function displayHex(internal: Uint8Array): string {
  return Buffer.from(internal).reverse().toString('hex');
}

/** Internal-order bytes of a display-order hex hash. */
export function internalBytes(hashHex: string): Uint8Array {
  return new Uint8Array(Buffer.from(hashHex, 'hex').reverse());
}

const HASH_HEX = /^[0-9a-f]{64}$/;
export function checkHashHex(hashHex: string): string {
  if (typeof hashHex !== 'string' || !HASH_HEX.test(hashHex)) {
    throw new ChainSyncError('invalid-argument', 'a block hash must be 64 lowercase hex characters');
  }
  return hashHex;
}

export function checkHeight(height: number): number {
  if (!Number.isSafeInteger(height) || height < 0) {
    throw new ChainSyncError('invalid-argument', `a block height must be a whole number >= 0, got ${height}`);
  }
  return height;
}

/** Parses 80 header bytes; checks the hash against what the source said it was. */
export function parseHeader(raw: Uint8Array, height: number, expectedHashHex?: string): BlockHeaderData {
  if (raw.length !== 80)
    throw new ChainSyncError('bad-response', `a block header is 80 bytes, got ${raw.length}`);
  let block: Block;
  try {
    block = Block.fromBuffer(raw);
  } catch (err) {
    throw new ChainSyncError('bad-response', `unparsable block header: ${(err as Error).message}`);
  }
  const hashHex = block.getId();
  if (expectedHashHex !== undefined && hashHex !== expectedHashHex) {
    throw new ChainSyncError('bad-response', `header hashes to ${hashHex}, expected ${expectedHashHex}`);
  }
  if (!block.prevHash) throw new ChainSyncError('bad-response', 'header without previous hash');
  return {
    hashHex,
    prevHashHex: displayHex(block.prevHash),
    height,
    header: new Uint8Array(raw),
    time: block.timestamp,
  };
}

/** Parses a full serialized block; checks its hash and merkle root. */
export function parseBlock(raw: Uint8Array, height: number, expectedHashHex?: string): BlockData {
  let block: Block;
  try {
    block = Block.fromBuffer(raw);
  } catch (err) {
    throw new ChainSyncError('bad-response', `unparsable block: ${(err as Error).message}`);
  }
  const header = parseHeader(raw.subarray(0, 80), height, expectedHashHex);
  const txdata = block.transactions ?? [];
  if (txdata.length === 0 || !block.checkTxRoots()) {
    throw new ChainSyncError('bad-response', `block ${header.hashHex} does not match its merkle root`);
  }
  return { header, txdata };
}
