// The one error class of @lnkit/wire. Decoders throw only this, so a caller can
// turn any malformed peer input into a warning/error message and a disconnect
// (BOLT 1: "upon receiving a known message with insufficient length ... MUST close
// the connection") without ever crashing on a RangeError.
//
// Messages never carry field values: a decoded field may be a secret
// (per_commitment_secret, payment_preimage) and errors end up in logs.

export type WireErrorCode =
  | 'truncated' // fewer bytes than the fixed fields need
  | 'invalid-bigsize' // BigSize not minimally encoded (BOLT 1 Appendix A)
  | 'invalid-tlv' // TLV stream breaks a BOLT 1 rule (order, length, unknown even type)
  | 'invalid-feature' // feature vector breaks a BOLT 9 rule
  | 'invalid-value' // a field has a value the spec forbids (bad point prefix, bad encoding type...)
  | 'unknown-message'; // asked to encode a message kind this package does not know

export class WireError extends Error {
  readonly code: WireErrorCode;
  /** The protocol name of the message (or TLV stream) being decoded, e.g. 'open_channel'. */
  readonly messageName: string | undefined;
  /** What is wrong, without the code and message name (so a rethrow can add a name once). */
  readonly detail: string;

  constructor(code: WireErrorCode, detail: string, messageName?: string) {
    super(messageName === undefined ? `${code}: ${detail}` : `${messageName}: ${code}: ${detail}`);
    this.name = 'WireError';
    this.code = code;
    this.detail = detail;
    this.messageName = messageName;
  }
}
