/**
 * What every interop test against LDK sets up the same way: one bcoin regtest chain per test file
 * with LDK's WASM loaded, every node stopped after the file's tests, blocks fed to both nodes, and
 * a channel opened, funded and confirmed until it is usable on both sides.
 */
import { after, before } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { startTestChain, type TestChain } from '@lnkit/testchain';
import { initLdk, LdkNode, type LdkNodeOptions } from './ldk-node.ts';
import { LnkitNode, type LnkitNodeOptions } from './lnkit-node.ts';

/** Generous: the machine may be busy; a condition that holds returns at once. */
export const WAIT_MS = 60_000;

export interface Interop {
  /** The file's chain (started in its `before`). */
  readonly chain: TestChain;
  /** Stops something after the file's tests, the last deferred first. */
  defer(stop: () => Promise<void>): void;
}

/** Registers the file's `before` (LDK loaded, a chain with segwit active) and `after` (all stopped). */
export function interopChain(): Interop {
  let chain: TestChain | undefined;
  const stops: (() => Promise<void>)[] = [];
  before(async () => {
    await initLdk();
    chain = await startTestChain();
    await chain.activateSegwit();
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    await chain?.stop();
  });
  return {
    get chain() {
      if (!chain) throw new Error('the interop chain starts in before()');
      return chain;
    },
    defer: (stop) => {
      stops.push(stop);
    },
  };
}

/**
 * lnkit's claims to the file's chain through sendrawtransaction, as the node's Broadcaster does:
 * each accepted (then `onAccepted`) or refused with bitcoind's reason.
 */
export function chainBroadcaster(
  env: Interop,
  onAccepted?: (raw: Uint8Array) => void,
): {
  broadcastTransactions(
    txs: Uint8Array[],
  ): Promise<({ txid: string; accepted: true } | { txid: string; accepted: false; reason: string })[]>;
} {
  return {
    broadcastTransactions: async (txs) => {
      const out: ({ txid: string; accepted: true } | { txid: string; accepted: false; reason: string })[] =
        [];
      for (const raw of txs) {
        try {
          const txid = await env.chain.sendRawTransaction(Buffer.from(raw).toString('hex'));
          onAccepted?.(raw);
          out.push({ txid, accepted: true });
        } catch (err) {
          out.push({ txid: '', accepted: false, reason: (err as Error).message });
        }
      }
      return out;
    },
  };
}

/** Mines `n` blocks and feeds them to LDK and (when it is up) lnkit. */
export async function mine(
  env: Interop,
  ldk: LdkNode,
  lnkit: LnkitNode | undefined,
  n: number,
): Promise<void> {
  await env.chain.mine(n);
  await ldk.syncToTip();
  await lnkit?.syncToTip();
}

export interface PairOptions {
  /** lnkit's options other than the chain. */
  lnkit?: Omit<LnkitNodeOptions, 'chain'>;
  /** LDK's options other than the chain and its funding (lnkit's test funding). */
  ldk?: Omit<LdkNodeOptions, 'chain' | 'funding'>;
}

/** A fresh lnkit node and a fresh LDK node, LDK connected to lnkit; both stopped after the file. */
export async function connectedPair(
  env: Interop,
  o: PairOptions = {},
): Promise<{ ldk: LdkNode; lnkit: LnkitNode }> {
  const lnkit = await LnkitNode.create({ ...o.lnkit, chain: env.chain });
  env.defer(() => lnkit.stop());
  const ldk = await LdkNode.create({ ...o.ldk, chain: env.chain, funding: lnkit.funding });
  env.defer(() => ldk.stop());
  await ldk.connect(lnkit.nodeId, '127.0.0.1', lnkit.port);
  await waitFor(() => lnkit.pm.listPeers().some((p) => p.nodeId === ldk.nodeId), { what: 'lnkit sees LDK' });
  return { ldk, lnkit };
}

export interface OpenOptions {
  opener: 'ldk' | 'lnkit';
  capacitySat: bigint;
  pushMsat: bigint;
  /** lnkit opens it with announce_channel (LDK opens public channels when its config says so). */
  public?: boolean;
}

/**
 * Opens a channel between a connected pair (`opener` funds it from one 1,200,000 sat coin and
 * pushes `pushMsat` to the other side), waits for it pending on both sides, mines 3 blocks (the
 * LDK harness's `minimumDepth` the tests ask for) and waits until lnkit calls it `ready` and LDK
 * usable. Returns its channel id.
 */
export async function openedChannel(
  env: Interop,
  { ldk, lnkit }: { ldk: LdkNode; lnkit: LnkitNode },
  o: OpenOptions,
): Promise<string> {
  await lnkit.funding.addCoins(1, 1_200_000n);
  await mine(env, ldk, lnkit, 1);
  if (o.opener === 'ldk') ldk.openChannel(lnkit.nodeId, o.capacitySat, o.pushMsat);
  else
    await lnkit.manager.openChannel(ldk.nodeId, o.capacitySat, {
      pushMsat: o.pushMsat,
      ...(o.public ? { public: true } : {}),
    });
  await waitFor(() => lnkit.events.some((e) => e.type === 'ChannelPending'), {
    what: 'ChannelPending at lnkit',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(
    () => ldk.events.some((e) => e.type === 'ChannelPending'),
    WAIT_MS,
    'ChannelPending at LDK',
  );
  await ldk.settled();
  await mine(env, ldk, lnkit, 3);
  await waitFor(() => lnkit.manager.listChannels()[0]?.state === 'ready', {
    what: 'ready at lnkit',
    timeoutMs: WAIT_MS,
  });
  await ldk.waitFor(() => ldk.channels()[0]?.isUsable === true, WAIT_MS, 'usable at LDK');
  return lnkit.manager.listChannels()[0]?.channelId as string;
}
