/**
 * The node's chain tip under the block stream: writes one at a time in chain order, the tip
 * in memory (info()) moved only once its write is durable; a write the disk refuses waited out
 * (a fault in info(), the tip held, resumed once writes work), and one refused otherwise
 * reported as a node event and in info(), never as an unhandled rejection.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Store } from '@lnkit/store';
import { captureLogger, nextEvent, waitFor } from '@lnkit/test-support';
import { chainTipRecord, NodeBuilder, type NodeError, type NodeEvent, nodeStoreOptions } from './index.ts';
import { countingSource, gateWrites, nodeConfig, useTestChain } from './test-fixtures.ts';

const { chain, dir } = useTestChain();

/** The height in a write of the chain tip. */
const heightOf = (value: unknown) => chainTipRecord.decode(value as Uint8Array).height;

async function startNode(name: string) {
  const store = await Store.open(dir(`${name}-store`), nodeStoreOptions('regtest'));
  const gate = gateWrites(store, 'meta');
  const source = countingSource(chain());
  const log = captureLogger({ level: 'info' });
  const node = await new NodeBuilder(nodeConfig(chain(), dir(name)))
    .withLogger(log.logger)
    .withStore(store)
    .withBlockSource(source)
    .build();
  const stop = async () => {
    gate.mode = 'pass';
    for (const w of gate.held.splice(0)) await w.release();
    await node.stop();
    await store.close();
  };
  return { node, store, gate, source, log, stop };
}

test('the tip is written one block at a time in chain order, and info() shows a block only once its write is durable', async () => {
  const { node, gate, source, stop } = await startNode('ordered');
  try {
    const start = (await node.info()).blockHeight;
    gate.mode = 'hold';
    const fetched = source.blocks.length;
    await chain().mine(3);
    // Once the source is polled again after the third block, the stream has given all three:
    // a listener fed without ordering would have all three writes under way by now.
    await waitFor(() => source.blocks.length >= fetched + 3, { what: 'the three blocks to be fetched' });
    const polls = source.bestCalls;
    await waitFor(() => source.bestCalls > polls, { what: 'the next poll after the three blocks' });
    for (let i = 1; i <= 3; i++) {
      const write = await waitFor(() => gate.held[0], { what: `the write of block ${start + i}` });
      assert.equal(gate.held.length, 1, 'one write at a time');
      assert.equal(heightOf(write.value), start + i, 'in chain order');
      assert.equal((await node.info()).blockHeight, start + i - 1, 'info() shows only what is durable');
      gate.held.shift();
      await write.release();
      await waitFor(async () => (await node.info()).blockHeight === start + i, {
        what: `info() to show block ${start + i} once stored`,
      });
    }
    gate.mode = 'pass';
    await waitFor(async () => (await node.info()).synced, { what: 'the node to be synced' });
  } finally {
    await stop();
  }
});

test('a tip write the disk refuses waits: a fault in info(), the tip held, and the chain followed again once a write succeeds', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const { node, gate, log, stop } = await startNode('disk-full');
  try {
    const start = (await node.info()).blockHeight;
    await waitFor(async () => (await node.info()).synced, { what: 'the node to be synced' });
    gate.mode = 'fail';
    const fault = nextEvent(node.events$, (e: NodeEvent) => e.type === 'fault' && e.fault !== null);
    await chain().mine(2);
    await fault;
    // Tried again, and still refused: one fault, one error line, however many tries.
    await waitFor(() => gate.refused >= 3, { what: 'the tip write to be tried again' });
    const info = await node.info();
    assert.equal(info.blockHeight, start, 'the tip stays at the last block stored');
    assert.equal(info.synced, false);
    assert.equal(info.chainError, null, 'a full disk is not the end of the chain');
    assert.deepEqual(
      info.faults.map((f) => f.kind),
      ['storage-unavailable'],
    );
    assert.match(info.faults[0]!.message, /no space left on the device \(ENOSPC\)/);
    const errors = log.lines.filter((l) => l.level === 50 && /storage unavailable/.test(String(l.msg)));
    assert.equal(errors.length, 1, 'logged once');
    await assert.rejects(
      node.connect('02'.padEnd(66, '1'), '127.0.0.1', 1),
      (e: NodeError) => e.code === 'storage-unavailable',
      'what needs a durable write is refused meanwhile',
    );

    // Space again: the write that was waiting goes through, then the next block.
    gate.mode = 'pass';
    await waitFor(async () => (await node.info()).blockHeight === start + 2, {
      what: 'the tip to move on once writes work',
    });
    const after = await node.info();
    assert.deepEqual(after.faults, []);
    await waitFor(async () => (await node.info()).synced, { what: 'synced again' });
    await log.waitForLine((l) => /storage available again/.test(String(l.msg)), {
      what: 'the line saying storage works again',
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await stop();
  }
});

test('a tip write refused for a reason other than the machine is a chain error in info(), not an unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  const { node, gate, log, stop } = await startNode('failing');
  try {
    const start = (await node.info()).blockHeight;
    await waitFor(async () => (await node.info()).synced, { what: 'the node to be synced' });
    gate.mode = 'refuse';
    const failed = nextEvent(node.events$, (e: NodeEvent) => e.type === 'chain-listener-failed') as Promise<
      Extract<NodeEvent, { type: 'chain-listener-failed' }>
    >;
    await chain().mine(1);
    const event = await failed;
    assert.equal(event.listener, 'chain-tip');
    assert.equal(event.height, start + 1);
    assert.match(event.message, /refused \(test\)/);
    const info = await node.info();
    assert.equal(info.blockHeight, start, 'the tip stays at the last block stored');
    assert.equal(info.synced, false);
    assert.match(info.chainError ?? '', /chain-tip failed on blockConnected at height \d+: .*refused/);
    assert.deepEqual(info.faults, [], 'not a fault of the machine');
    await log.waitForLine((l) => l.level === 50 && /chain listener failed/.test(String(l.msg)), {
      what: 'the error line naming the block',
    });
    // Unhandled rejections are reported once the microtask queue drains: give it a turn.
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await stop();
  }
});
