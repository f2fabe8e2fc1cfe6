/** The init features lnkit sends, and how peers' features are shown in the API. */
import { Features, featureForBit } from '@lnkit/wire';

/**
 * What lnkit advertises in init unless the node builder says otherwise. Only the BOLT 9
 * ASSUMED baseline, which lnkit's channel and payment code targets: the peers in the
 * network (LDK among them) still check these bits and refuse a peer without
 * option_static_remotekey. A node that implements more (anchors, gossip_queries,
 * route blinding...) passes its own `features` to the PeerManager.
 */
export const LNKIT_INIT_FEATURES: Features = Features.of({
  required: ['var_onion_optin', 'option_static_remotekey', 'payment_secret'],
  optional: ['option_data_loss_protect', 'option_channel_type'],
});

export interface FeatureInfo {
  /** The feature bytes as sent (BOLT 9: big-endian bit field), hex. */
  hex: string;
  /** One entry per set bit: "name/required", "name/optional" or "bitN" for bits lnkit does not know. */
  names: string[];
}

export function describeFeatures(features: Features): FeatureInfo {
  return {
    hex: Buffer.from(features.toMinimalBytes()).toString('hex'),
    names: features.bits().map((bit) => {
      const k = featureForBit(bit);
      return k ? `${k.name}/${bit % 2 === 0 ? 'required' : 'optional'}` : `bit${bit}`;
    }),
  };
}
