/**
 * Before step 1: the chain the node follows, which steps 1, 3, 10 and 15 read. The node first
 * checks it is the configured network (by its genesis block), before anything is written for it:
 * the store of step 4 records the network, and step 7 would make a seed for it.
 *
 * The check asks the block source, the user's (withBlockSource) or bitcoind's JSON-RPC: with
 * their own block source, fee estimator and broadcaster the node never touches bitcoind.
 */
import { type BlockSource, RpcBlockSource } from '@lnkit/chain-sync';
import type { Logger } from '@lnkit/runtime';
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';
import { GENESIS_HASH, type Network } from '../network.ts';

export function chainSourceStep(): NodeComponent {
  return {
    step: 0,
    name: 'chain source',
    async start(ctx) {
      const source = ctx.supplied.blockSource ?? new RpcBlockSource(ctx.bitcoindRpc());
      await checkNetwork(source, ctx.config.network, ctx.log);
      ctx.set('blockSource', source);
    },
  };
}

async function checkNetwork(source: BlockSource, network: Network, log: Logger): Promise<void> {
  if (!source.getBlockHash) {
    log.warn(
      { source: source.description, network },
      `block source ${source.description} cannot give the genesis block (it has no getBlockHash): the node cannot check that it is ${network}`,
    );
    return;
  }
  let genesis: string;
  try {
    genesis = await source.getBlockHash(0);
  } catch (e) {
    throw new NodeError(
      'chain-unreachable',
      `cannot reach the chain at ${source.description}: ${(e as Error).message}`,
    );
  }
  if (genesis !== GENESIS_HASH[network]) {
    throw new NodeError(
      'wrong-chain',
      `the chain at ${source.description} is not ${network} (genesis ${genesis})`,
    );
  }
}
