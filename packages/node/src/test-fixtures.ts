/** Shared by the node's tests: a test chain, configs, and pieces a test can watch or hold. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { type BlockSource, type JsonRpc, RpcBlockSource } from '@lnkit/chain-sync';
import { type Encoding, type Key, type NamedDb, type Store, StoreError } from '@lnkit/store';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import type { NodeConfig } from './index.ts';

/** One test chain and one temporary folder per test file, made before its tests, removed after. */
export function useTestChain(): { chain: () => TestChain; dir: (name: string) => string } {
  let chain: TestChain | undefined;
  const root = mkdtempSync(join(tmpdir(), 'lnkit-node-'));
  before(async () => {
    chain = await startTestChain();
  });
  after(async () => {
    await chain?.stop();
    rmSync(root, { recursive: true, force: true });
  });
  return {
    chain: () => {
      if (!chain) throw new Error('the test chain is not started yet');
      return chain;
    },
    dir: (name) => join(root, name),
  };
}

export function nodeConfig(chain: TestChain, dataDir: string, over: Partial<NodeConfig> = {}): NodeConfig {
  return {
    dataDir,
    network: 'regtest',
    chain: { url: chain.rpcUrl, auth: { user: chain.rpcUser, password: chain.rpcPassword } },
    listen: null,
    placement: 'in-process',
    pollIntervalMs: 50,
    ...over,
  };
}

/** The test chain's JSON-RPC called in this process, not over HTTP: not bitcoind's URL. */
export function inProcessRpc(chain: TestChain): JsonRpc {
  return {
    url: 'bcoin (in-process)',
    call: <T>(method: string, params?: unknown[]) => chain.rpc(method, params) as Promise<T>,
  };
}

/** A block source over the test chain that counts what it was asked. */
export function countingSource(chain: TestChain): BlockSource & { blocks: string[]; bestCalls: number } {
  const inner = new RpcBlockSource(inProcessRpc(chain));
  const source = {
    description: 'counting source',
    blocks: [] as string[],
    bestCalls: 0,
    getBestBlock: () => {
      source.bestCalls++;
      return inner.getBestBlock();
    },
    getHeader: (hashHex: string) => inner.getHeader(hashHex),
    getBlock: (hashHex: string) => {
      source.blocks.push(hashHex);
      return inner.getBlock(hashHex);
    },
    getBlockHash: (height: number) => inner.getBlockHash(height),
  };
  return source;
}

export interface HeldWrite {
  key: Key;
  value: unknown;
  /** Lets the write go to the store; resolves when it is durable. */
  release(): Promise<void>;
}

/**
 * Wraps `store` so that the writes to database `name` can pass, be held until the test
 * releases them, fail as a full disk would (`fail`: write-failed with osCode ENOSPC), or be
 * refused for a reason that is not the machine's (`refuse`: write-failed without an osCode).
 */
export function gateWrites(
  store: Store,
  name: string,
): { mode: 'pass' | 'hold' | 'fail' | 'refuse'; held: HeldWrite[]; refused: number } {
  const gate = {
    mode: 'pass' as 'pass' | 'hold' | 'fail' | 'refuse',
    held: [] as HeldWrite[],
    refused: 0,
  };
  const db = store.db.bind(store);
  store.db = (<V>(dbName: string, encoding?: Encoding): NamedDb<V> => {
    const inner = db<V>(dbName, encoding);
    if (dbName !== name) return inner;
    return {
      ...inner,
      put(key, value) {
        if (gate.mode === 'pass') return inner.put(key, value);
        if (gate.mode === 'fail') {
          gate.refused++;
          return Promise.reject(
            new StoreError(
              'write-failed',
              `write to ${name} failed: no space left on the device (ENOSPC) (test)`,
              store.dataDir,
              'ENOSPC',
            ),
          );
        }
        if (gate.mode === 'refuse')
          return Promise.reject(new StoreError('write-failed', `write to ${name} failed: refused (test)`));
        return new Promise<void>((resolve, reject) => {
          gate.held.push({
            key,
            value,
            release: () => {
              const write = inner.put(key, value);
              write.then(resolve, reject);
              return write;
            },
          });
        });
      },
    };
  }) as Store['db'];
  return gate;
}
