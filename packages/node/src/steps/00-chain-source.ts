/**
 * Before step 1: the chain the node follows, which steps 1, 3, 10 and 15 read. The node first
 * checks it is the configured network (by its genesis block), before anything is written for it:
 * the store of step 4 records the network, and step 7 would make a seed for it.
 */
import { RpcBlockSource } from '@lnkit/chain-sync';
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';
import { GENESIS_HASH } from '../network.ts';

export function chainSourceStep(): NodeComponent {
  return {
    step: 0,
    name: 'chain source',
    async start(ctx) {
      const network = ctx.config.network;
      const rpc = ctx.bitcoindRpc();
      let genesis: string;
      try {
        genesis = await rpc.call<string>('getblockhash', [0]);
      } catch (e) {
        throw new NodeError(
          'chain-unreachable',
          `cannot reach the chain at ${rpc.url}: ${(e as Error).message}`,
        );
      }
      if (genesis !== GENESIS_HASH[network]) {
        throw new NodeError('wrong-chain', `the chain at ${rpc.url} is not ${network} (genesis ${genesis})`);
      }
      ctx.set('blockSource', ctx.supplied.blockSource ?? new RpcBlockSource(rpc));
    },
  };
}
