/**
 * The LDK guide's 19 steps (reference/building-a-node-with-ldk.md), in its order: the ones
 * built are components, a file each; the ones not built yet are listed below with where they
 * will go. Step 2, the logger, is made before the list (02-logger.ts): every step logs
 * through it. A step may take more than one component, each in its own file, in start order:
 * step 4 the store then the monitors' persister on it, step 7 the keys then the on-chain
 * wallet (which the guide leaves to the user, and which needs the seed the keys check).
 *
 * Two steps start out of their number's order, for the guide's own rule that nothing calls the
 * ChannelManager before the chain is synced: step 9, the manager, starts after steps 10 and 11
 * (synced, every monitor watched), at the height step 10 reached; and step 16's event log opens
 * just before it, since the manager writes every event it reports there first.
 */
import type { NodeComponent } from '../component.ts';
import { chainSourceStep } from './00-chain-source.ts';
import { feeEstimatorStep } from './01-fee-estimator.ts';
import { broadcasterStep } from './03-broadcaster.ts';
import { monitorPersisterStep } from './04-monitor-persister.ts';
import { persistStep } from './04-persist.ts';
import { filterStep } from './05-filter.ts';
import { chainMonitorStep } from './06-chain-monitor.ts';
import { keysStep } from './07-keys.ts';
import { walletStep } from './07-wallet.ts';
import { readMonitorsStep } from './08-read-monitors.ts';
import { channelManagerStep } from './09-channel-manager.ts';
import { chainSyncStep } from './10-chain-sync.ts';
import { watchChannelsStep } from './11-watch-channels.ts';
import { gossipStep } from './12-gossip.ts';
import { peerManagerStep } from './13-peer-manager.ts';
import { networkingStep } from './14-networking.ts';
import { chainUpdatesStep } from './15-chain-updates.ts';
import { eventsStep } from './16-events.ts';
import { backgroundStep } from './18-background.ts';
import { nodeAnnouncementStep } from './19-node-announcement.ts';

/** Fresh components for one build, in start order (each holds what it started, to stop it). */
export function nodeSteps(): NodeComponent[] {
  return [
    chainSourceStep(),
    feeEstimatorStep(),
    broadcasterStep(),
    persistStep(),
    monitorPersisterStep(),
    filterStep(),
    chainMonitorStep(),
    keysStep(),
    walletStep(),
    readMonitorsStep(),
    chainSyncStep(),
    watchChannelsStep(),
    eventsStep(),
    channelManagerStep(),
    gossipStep(),
    peerManagerStep(),
    networkingStep(),
    chainUpdatesStep(),
    nodeAnnouncementStep(),
    backgroundStep(),
  ];
}

/**
 * Steps that start later than their number says, each after the step named (see above): the
 * rest of the list is in the guide's order.
 */
export const STEPS_STARTED_LATE = [
  { step: 16, after: 11, why: 'the event log opens just before the manager, which writes to it' },
  { step: 9, after: 16, why: 'the manager starts once the chain is synced and every monitor is watched' },
  {
    step: 18,
    after: 19,
    why: "the background processor runs every step's tasks, step 19's refresh included",
  },
] as const;

/** Steps made outside the list of components. */
export const STEPS_OUTSIDE_THE_LIST = [
  { step: 2, name: 'Logger', file: 'steps/02-logger.ts' },
  /*
   * The snapshots are written by the components that own them, none on a timer of its own: the
   * manager's on every change of a channel and every block, through the snapshot store step 9
   * gives it; the graph's and the scorer's as step-18 tasks of step 12.
   */
  {
    step: 17,
    name: 'Persister',
    file: 'steps/09-channel-manager.ts (manager), steps/12-gossip.ts (graph, scorer)',
  },
] as const;

/** Steps not built yet: where each will go when its package lands (every step is built). */
export const PLANNED_STEPS: readonly { step: number; name: string; where: string }[] = [];
