/**
 * Blocks per second synced from a bcoin regtest node by the chain poller, with full block parsing
 * (bitcoinjs-lib Block.fromBuffer + merkle check), over JSON-RPC and over REST. Each run starts at
 * genesis, so it includes the header walk back from the tip.
 */
import { type BlockSource, ChainPoller, RestBlockSource, RpcBlockSource } from '@lnkit/chain-sync';
import { createRootLogger } from '@lnkit/runtime';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import type { Emit } from './harness.ts';
import { round } from './harness.ts';

async function syncAll(
  chain: TestChain,
  source: BlockSource,
): Promise<{ blocks: number; txs: number; ms: number }> {
  const genesis = (await chain.rpc('getblockhash', [0])) as string;
  const tip = await chain.height();
  const poller = new ChainPoller(source, {
    logger: createRootLogger({ level: 'silent' }),
    start: { hashHex: genesis, height: 0 },
  });
  let blocks = 0;
  let txs = 0;
  poller.events$.subscribe((e) => {
    if (e.type === 'blockConnected') {
      blocks++;
      txs += e.txdata.length;
    }
  });
  const t0 = performance.now();
  await poller.pollOnce();
  const ms = performance.now() - t0;
  if (blocks !== tip) throw new Error(`synced ${blocks} blocks, expected ${tip}`);
  return { blocks, txs, ms };
}

export default async function bench(emit: Emit): Promise<void> {
  const chain = await startTestChain();
  try {
    await chain.mine(1000);
    // 50 more blocks with 20 payments each, so parsing sees real transactions too.
    for (let b = 0; b < 50; b++) {
      for (let i = 0; i < 20; i++)
        await chain.fundScript(new Uint8Array([0x00, 0x14, ...new Array(20).fill(i)]), 10_000n + BigInt(i));
      await chain.mine(1);
    }
    const rpc = () =>
      new RpcBlockSource({ url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } });
    const rest = () => new RestBlockSource({ url: chain.restUrl });
    for (const [name, make] of [
      ['rpc', rpc],
      ['rest', rest],
    ] as const) {
      const { blocks, txs, ms } = await syncAll(chain, make());
      emit({
        name: 'chain-sync.blocks_per_second',
        value: round((blocks * 1000) / ms),
        unit: 'blocks/s',
        source: name,
        blocks,
        txs,
        node: 'bcoin-regtest',
      });
    }
  } finally {
    await chain.stop();
  }
}
