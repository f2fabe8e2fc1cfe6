/**
 * The BOLT 11 network of a chain, from its genesis block hash (internal byte order, as
 * open_channel's chain_hash carries it).
 */
import type { Network } from '@lnkit/invoice';

/** Genesis hashes in display order. */
const GENESIS: Record<string, Network> = {
  '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f': 'bitcoin',
  '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943': 'testnet',
  '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6': 'signet',
  '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206': 'regtest',
};

export function networkOfChain(chainHash: Uint8Array): Network | undefined {
  return GENESIS[Buffer.from(chainHash).reverse().toString('hex')];
}
