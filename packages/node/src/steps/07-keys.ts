/**
 * Step 7, KeysManager: the 32-byte `keys_seed` file in the data dir, read at every start and
 * made only on the first one. The store records the node id the data dir belongs to
 * (records.ts, NODE_ID), and a start whose seed does not give that id is refused: a seed that
 * is missing, replaced or of another node would run the old store, its peers and (with
 * channels) its funds under a new identity. A new seed is made only for a data dir that holds
 * nothing yet; never over an existing store.
 *
 * Only the node id is kept on this thread: the handshake's node secret lives in the signer
 * pool the peer actor starts (step 13), so this thread's copy of the seed is wiped at once.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createSeed, KeysManager, readSeed, SEED_FILE_NAME } from '@lnkit/keys';
import { recordDb, type Store } from '@lnkit/store';
import type { NodeComponent } from '../component.ts';
import { NodeError } from '../errors.ts';
import { CHAIN_TIP, NODE_ID, nodeIdentityRecord, PERSISTENT_PEERS_DB } from '../records.ts';

export function keysStep(): NodeComponent {
  return {
    step: 7,
    name: 'keys',
    async start(ctx) {
      const dataDir = ctx.config.dataDir;
      // The data dir may not exist yet when the user gave their own store (kept elsewhere).
      mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const store = ctx.get('store');
      const identity = recordDb(store.db(NODE_ID.db), nodeIdentityRecord);
      const recorded = identity.get(NODE_ID.key)?.nodeId;

      let found = readSeed(dataDir);
      if (!found) {
        if (recorded !== undefined || holdsNodeState(store)) throw seedMissing(dataDir, recorded);
        found = createSeed(dataDir);
        ctx.log.info({ path: found.path }, 'created a new seed file');
      }
      const seed = found.seed;
      const nodeId = Buffer.from(new KeysManager(seed).nodeId).toString('hex');
      seed.fill(0);

      if (recorded === undefined) {
        // A first start, or a data dir from before the node id was recorded: its seed is the
        // one it ran with (nothing made a new one over its state above).
        await identity.put(NODE_ID.key, { nodeId });
        ctx.log.info({ nodeId }, `the data dir belongs to node ${nodeId}`);
      } else if (recorded !== nodeId) {
        throw seedMismatch(dataDir, found.path, nodeId, recorded);
      }
      ctx.set('nodeId', nodeId);
    },
  };
}

/** Whether the store already holds a node's state: a chain tip, or peers to redial. */
function holdsNodeState(store: Store): boolean {
  return store.db(CHAIN_TIP.db).get(CHAIN_TIP.key) !== undefined || store.db(PERSISTENT_PEERS_DB).count() > 0;
}

function seedMissing(dataDir: string, recorded: string | undefined): NodeError {
  const path = join(dataDir, SEED_FILE_NAME);
  const whose = recorded
    ? `this data dir belongs to node ${recorded}`
    : 'this data dir already holds a node (its chain tip or peers) from before node ids were recorded';
  return new NodeError(
    'seed-missing',
    `${SEED_FILE_NAME} is missing from ${dataDir}, but ${whose}: restore ${recorded ? 'its' : "the node's"} ` +
      `${SEED_FILE_NAME} from your backup to ${path}, or use another data dir to start a new node. ` +
      "No new seed was made: it would be another node id, and this node's channels and peers would be lost to it.",
  );
}

function seedMismatch(dataDir: string, path: string, nodeId: string, recorded: string): NodeError {
  return new NodeError(
    'seed-mismatch',
    `the seed in ${path} is of node ${nodeId}, but the data dir ${dataDir} belongs to node ${recorded}: ` +
      `restore the ${SEED_FILE_NAME} of node ${recorded} from your backup, or use another data dir for node ${nodeId}. ` +
      'Nothing was changed.',
  );
}
