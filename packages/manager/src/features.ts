/**
 * The init features the manager implements, and what an init exchange with a peer settles
 * for its channels. The node ORs MANAGER_INIT_FEATURES into the features the PeerManager
 * advertises (BOLT 9: "optional" odd bits, since lnkit also opens channels without them).
 */
import { Features } from '@lnkit/wire';
import type { PeerFeatures } from './checks.ts';

export const MANAGER_INIT_FEATURES: Features = Features.of({
  optional: ['option_support_large_channel', 'option_anchors'],
});

/** BOLT 1: a feature is negotiated when both offered it (either bit). */
export function peerFeatures(ours: Features, theirs: Features): PeerFeatures {
  const both = (name: string) => ours.supports(name) && theirs.supports(name);
  return {
    largeChannel: both('option_support_large_channel'),
    anchors: both('option_anchors'),
    dualFund: both('option_dual_fund'),
    upfrontShutdownScript: both('option_upfront_shutdown_script'),
    scidAlias: both('option_scid_alias'),
    anySegwit: both('option_shutdown_anysegwit'),
    simpleClose: both('option_simple_close'),
  };
}
