import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Block, Transaction } from 'bitcoinjs-lib';
import {
  type BestBlock,
  type BlockData,
  type BlockHeaderData,
  type BlockSource,
  internalBytes,
  parseBlock,
  parseHeader,
} from './block-source.ts';
import { findChainDifference } from './chain-walk.ts';
import { ChainSyncError } from './errors.ts';

/** An in-memory block tree: headers are real 80-byte headers, linked by their real hashes. */
class TreeSource implements BlockSource {
  readonly description = 'memory';
  readonly headers = new Map<string, BlockHeaderData>();
  tip!: BlockHeaderData;
  private nonce: number;

  constructor(firstNonce = 0) {
    this.nonce = firstNonce;
    this.tip = this.add(undefined);
  }

  add(parent: BlockHeaderData | undefined): BlockHeaderData {
    const b = new Block();
    b.version = 0x20000000;
    b.prevHash = parent ? internalBytes(parent.hashHex) : new Uint8Array(32);
    b.merkleRoot = new Uint8Array(32);
    b.timestamp = 1_700_000_000 + this.nonce;
    b.bits = 0x207fffff;
    b.nonce = this.nonce++;
    const header = parseHeader(b.toBuffer(true), parent ? parent.height + 1 : 0);
    this.headers.set(header.hashHex, header);
    return header;
  }

  extend(from: BlockHeaderData, n: number): BlockHeaderData[] {
    const out: BlockHeaderData[] = [];
    let at = from;
    for (let i = 0; i < n; i++) {
      at = this.add(at);
      out.push(at);
    }
    return out;
  }

  async getBestBlock(): Promise<BestBlock> {
    return { hashHex: this.tip.hashHex, height: this.tip.height };
  }
  async getHeader(hashHex: string): Promise<BlockHeaderData> {
    const h = this.headers.get(hashHex);
    if (!h) throw new ChainSyncError('not-found', hashHex);
    return h;
  }
  async getBlock(): Promise<BlockData> {
    throw new ChainSyncError('not-found', 'headers only');
  }
}

const heights = (hs: BlockHeaderData[]) => hs.map((h) => h.height);

test('straight line: connects everything above, disconnects nothing', async () => {
  const src = new TreeSource();
  const line = src.extend(src.tip, 5);
  const diff = await findChainDifference(src, src.tip, line[4]!);
  assert.deepEqual(heights(diff.connected), [1, 2, 3, 4, 5]);
  assert.deepEqual(diff.disconnected, []);
  assert.equal(diff.fork.height, 0);
});

test('reorg: disconnects the stale branch highest first, connects the new one lowest first', async () => {
  const src = new TreeSource();
  const main = src.extend(src.tip, 6);
  const stale = src.extend(main[2]!, 3); // heights 4, 5, 6 on a fork at 3
  const diff = await findChainDifference(src, stale[2]!, main[5]!);
  assert.equal(diff.fork.hashHex, main[2]!.hashHex);
  assert.deepEqual(
    diff.disconnected.map((h) => h.hashHex),
    [stale[2]!, stale[1]!, stale[0]!].map((h) => h.hashHex),
  );
  assert.deepEqual(
    diff.connected.map((h) => h.hashHex),
    [main[3]!, main[4]!, main[5]!].map((h) => h.hashHex),
  );
});

test('a consumer ahead on a stale fork longer than the new tip still walks back to the fork', async () => {
  const src = new TreeSource();
  const main = src.extend(src.tip, 3);
  const stale = src.extend(main[0]!, 5); // heights 2..6 off height 1
  const diff = await findChainDifference(src, stale[4]!, main[2]!);
  assert.deepEqual(heights(diff.disconnected), [6, 5, 4, 3, 2]);
  assert.deepEqual(heights(diff.connected), [2, 3]);
});

test('same block: nothing to do; unrelated chains: no-common-ancestor', async () => {
  const src = new TreeSource();
  const [one] = src.extend(src.tip, 1);
  assert.deepEqual(await findChainDifference(src, one!, one!), {
    fork: one,
    disconnected: [],
    connected: [],
  });
  const other = new TreeSource(1000); // another genesis
  const otherOne = other.extend(other.tip, 1)[0]!;
  for (const [k, v] of other.headers) src.headers.set(k, v);
  await assert.rejects(
    findChainDifference(src, one!, otherOne),
    (e: unknown) => e instanceof ChainSyncError && e.code === 'no-common-ancestor',
  );
});

test('bad bytes from a source are typed errors, never a crash', () => {
  const bad = (f: () => unknown) =>
    assert.throws(f, (e: unknown) => e instanceof ChainSyncError && e.code === 'bad-response');
  bad(() => parseHeader(new Uint8Array(79), 1));
  bad(() => parseBlock(new Uint8Array(81).fill(0xff), 1));
  bad(() => parseBlock(new Uint8Array(0), 1));
  // A header whose hash is not the one asked for.
  const src = new TreeSource();
  bad(() => parseHeader(src.tip.header, 0, '00'.repeat(32)));
  // A block whose transactions do not match the header's merkle root.
  const b = new Block();
  b.version = 1;
  b.prevHash = new Uint8Array(32);
  b.merkleRoot = new Uint8Array(32);
  b.timestamp = 1;
  b.bits = 0x207fffff;
  b.nonce = 0;
  const tx = new Transaction();
  tx.addInput(new Uint8Array(32), 0xffffffff);
  tx.addOutput(new Uint8Array([0x51]), 1n);
  b.transactions = [tx];
  bad(() => parseBlock(b.toBuffer(), 1));
});
