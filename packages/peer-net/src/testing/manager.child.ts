/**
 * A PeerManager alone in a child process, for the memory tests (limits.test.ts): its RSS is
 * the PeerManager's, not that of other tests in the same process. PeerManagerOptions come as
 * JSON in argv[2]. It answers the parent over IPC, each reply carrying the request's id:
 * `rss` (after two full GCs when run with --expose-gc; with the highest RSS sampled since
 * `reset-peak`), `reset-peak`, `stats`, `connectionStats` (one peer), and `close`.
 */
import { randomBytes } from '@lnkit/crypto';
import { nodeKeyEcdh } from '../noise.ts';
import { PeerManager, type PeerManagerOptions } from '../peer-manager.ts';

export type ChildRequest =
  | { id: number; type: 'rss' | 'reset-peak' | 'stats' | 'close' }
  | { id: number; type: 'connectionStats'; nodeId: string };

const options = JSON.parse(process.argv[2] ?? '{}') as Omit<PeerManagerOptions, 'nodeKey'>;
const pm = new PeerManager({ nodeKey: nodeKeyEcdh(randomBytes(32)), ...options });
const rss = () => process.memoryUsage().rss;
let peakRss = rss();
// Sampled often: the flood's growth would show between two of the parent's requests.
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, rss());
}, 5);

function collect(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
}

process.on('message', (m: ChildRequest) => {
  const reply = (value: unknown) => process.send?.({ id: m.id, value });
  switch (m.type) {
    case 'rss': {
      peakRss = Math.max(peakRss, rss());
      collect();
      reply({ rss: rss(), peakRss });
      break;
    }
    case 'reset-peak':
      collect();
      peakRss = rss();
      reply(peakRss);
      break;
    case 'stats':
      reply(pm.stats());
      break;
    case 'connectionStats':
      reply(pm.connectionStats(m.nodeId) ?? null);
      break;
    case 'close':
      clearInterval(sampler);
      void pm.close().then(() => {
        reply(null);
        process.disconnect();
      });
      break;
  }
});

const { port } = await pm.listen('127.0.0.1', 0);
process.send?.({ id: 0, value: { port, nodeId: pm.nodeId } });
