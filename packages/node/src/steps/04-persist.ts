/**
 * Step 4, Persist: the lmdb store in the data dir, or the user's (withStore). It holds the
 * node's chain tip, its persistent peers and its event log as versioned records (records.ts),
 * the wallet, the channel monitors (step 4's persister), the manager's snapshot and the graph. Opening it migrates an older
 * data dir and refuses a newer one, naming both schema versions (store-schema.ts). The node
 * closes the store it opened; a store the user opened is theirs to close.
 *
 * Whichever store it is, the node watches its writes (storage-status.ts): a full disk or an
 * I/O error makes storage unavailable, shown in info().faults, until a write succeeds again.
 */
import { Store } from '@lnkit/store';
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';
import { StorageStatus } from '../storage-status.ts';
import { nodeStoreOptions, SCHEMA_VERSION } from '../store-schema.ts';

export function persistStep(): NodeComponent {
  let owned: Store | undefined;
  let storage: StorageStatus | undefined;
  let unwatch: (() => void) | undefined;
  return {
    step: 4,
    name: 'persist',
    async start(ctx) {
      const supplied = ctx.supplied.store;
      if (supplied) {
        // Opened with other options, it would hold (or get) records this node cannot read.
        const found = supplied.schemaVersion();
        if (found !== SCHEMA_VERSION) {
          throw new NodeError(
            'invalid-config',
            `the store given to withStore has schema ${found}; this node uses schema ${SCHEMA_VERSION}: open it with nodeStoreOptions(network)`,
          );
        }
      }
      if (!supplied) owned = await Store.open(ctx.config.dataDir, nodeStoreOptions(ctx.config.network));
      const store = (supplied ?? owned)!;
      // Every write the store makes, whichever component made it, tells whether storage works.
      storage = new StorageStatus(ctx.log, ctx.faults, ctx.config.storageRetry);
      const status = storage;
      unwatch = store.onWrite((outcome) => status.onWrite(outcome));
      ctx.set('store', store);
      ctx.set('storage', storage);
    },
    async stop() {
      unwatch?.();
      storage?.close();
      await owned?.close();
    },
  };
}
