// @lnkit/manager — the ChannelManager: BOLT 2 channel state machines and the actor around them.
export {};
