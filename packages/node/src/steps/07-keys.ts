/**
 * Step 7, KeysManager: the 32-byte `keys_seed` file in the data dir, created once (fsync,
 * 0600) and read at every start. Only the node id is kept on this thread: the handshake's
 * node secret lives in the signer pool the peer actor starts (step 13), so this thread's copy
 * of the seed is wiped at once.
 */
import { mkdirSync } from 'node:fs';
import { KeysManager, loadOrCreateSeed } from '@lnkit/keys';
import type { NodeComponent } from '../component.ts';

export function keysStep(): NodeComponent {
  return {
    step: 7,
    name: 'keys',
    start(ctx) {
      // The data dir may not exist yet when the user gave their own store (kept elsewhere).
      mkdirSync(ctx.config.dataDir, { recursive: true, mode: 0o700 });
      const seed = loadOrCreateSeed(ctx.config.dataDir);
      if (seed.created) ctx.log.info({ path: seed.path }, 'created a new seed file');
      const keys = new KeysManager(seed.seed);
      seed.seed.fill(0);
      ctx.set('nodeId', Buffer.from(keys.nodeId).toString('hex'));
    },
  };
}
