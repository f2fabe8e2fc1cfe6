/**
 * The LDK guide's 19 steps (reference/building-a-node-with-ldk.md), in its order: the ones
 * built are components, a file each; the ones not built yet are listed below with where they
 * will go. Step 2, the logger, is made before the list (02-logger.ts): every step logs
 * through it.
 */
import type { NodeComponent } from '../component.ts';
import { chainSourceStep } from './00-chain-source.ts';
import { feeEstimatorStep } from './01-fee-estimator.ts';
import { broadcasterStep } from './03-broadcaster.ts';
import { persistStep } from './04-persist.ts';
import { filterStep } from './05-filter.ts';
import { keysStep } from './07-keys.ts';
import { chainSyncStep } from './10-chain-sync.ts';
import { peerManagerStep } from './13-peer-manager.ts';
import { networkingStep } from './14-networking.ts';
import { chainUpdatesStep } from './15-chain-updates.ts';
import { backgroundStep } from './18-background.ts';

/** Fresh components for one build, in start order (each holds what it started, to stop it). */
export function nodeSteps(): NodeComponent[] {
  return [
    chainSourceStep(),
    feeEstimatorStep(),
    broadcasterStep(),
    persistStep(),
    filterStep(),
    keysStep(),
    chainSyncStep(),
    peerManagerStep(),
    networkingStep(),
    chainUpdatesStep(),
    backgroundStep(),
  ];
}

/** Steps made outside the list of components. */
export const STEPS_OUTSIDE_THE_LIST = [{ step: 2, name: 'Logger', file: 'steps/02-logger.ts' }] as const;

/** Steps not built yet: where each will go when its package lands. */
export const PLANNED_STEPS = [
  {
    step: 6,
    name: 'ChainMonitor',
    where: 'steps/06-chain-monitor.ts: spawn the ChainMonitor actor (@lnkit/monitor) after the filter',
  },
  {
    step: 8,
    name: 'read ChannelMonitors',
    where: 'steps/08-read-monitors.ts: MonitorStore.readAll() from the store of step 4, after the keys',
  },
  {
    step: 9,
    name: 'ChannelManager',
    where: 'steps/09-channel-manager.ts: spawn the ChannelManager actor (@lnkit/manager) from its snapshot',
  },
  {
    step: 11,
    name: 'monitors to ChainMonitor',
    where: 'steps/11-watch-channels.ts: chainMonitor.watchChannel() for each monitor, after step 10',
  },
  {
    step: 12,
    name: 'gossip handler',
    where: 'steps/12-gossip.ts: the GossipSync actor, NetworkGraph and Router (@lnkit/gossip)',
  },
  {
    step: 16,
    name: 'EventHandler',
    where: "steps/16-events.ts: the manager's typed Event stream, handled on this thread",
  },
  {
    step: 17,
    name: 'Persister',
    where: 'steps/17-persister.ts: manager, graph and scorer snapshots, as tasks of step 18',
  },
  {
    step: 19,
    name: 'node announcement',
    where: 'steps/19-node-announcement.ts: a step-18 task sending node_announcement with public channels',
  },
] as const;
