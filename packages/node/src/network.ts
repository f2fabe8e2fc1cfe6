import { NodeError } from './errors.ts';

export type Network = 'regtest' | 'testnet' | 'signet' | 'bitcoin';
export const NETWORKS: readonly Network[] = ['regtest', 'testnet', 'signet', 'bitcoin'];

/** Genesis block hashes, display order (as bitcoind shows them). */
export const GENESIS_HASH: Record<Network, string> = {
  bitcoin: '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f',
  testnet: '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
  signet: '00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6',
  regtest: '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206',
};

export function parseNetwork(value: string): Network {
  if ((NETWORKS as readonly string[]).includes(value)) return value as Network;
  throw new NodeError('invalid-config', `network must be one of ${NETWORKS.join(', ')}; got "${value}"`);
}

/** BOLT 1 / BOLT 7 chain_hash: the genesis hash in internal byte order (reversed display hex). */
export function chainHash(network: Network): Uint8Array {
  return Uint8Array.from(Buffer.from(GENESIS_HASH[network], 'hex').reverse());
}
