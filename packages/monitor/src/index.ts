// @lnkit/monitor — ChannelMonitor (one per channel, the source of truth), its updates and store, and the ChainMonitor.
export {};
