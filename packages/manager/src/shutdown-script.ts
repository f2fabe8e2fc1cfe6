/**
 * BOLT 2 `shutdown` "MUST set scriptpubkey in one of the following forms" — the scripts a
 * channel may close to. Used for `upfront_shutdown_script` in open_channel / accept_channel
 * too ("a valid shutdown_scriptpubkey as required by shutdown scriptpubkey").
 */

export interface ShutdownScriptFeatures {
  /** option_shutdown_anysegwit negotiated. */
  anySegwit: boolean;
  /** option_simple_close negotiated. */
  simpleClose: boolean;
}

const OP_0 = 0x00;
const OP_1 = 0x51;
const OP_16 = 0x60;
const OP_RETURN = 0x6a;
const OP_PUSHDATA1 = 0x4c;

/** Whether `script` is one of the forms BOLT 2 allows, given what was negotiated. */
export function isValidShutdownScript(script: Uint8Array, f: ShutdownScriptFeatures): boolean {
  const n = script.length;
  // 1. `OP_0` `20` 20-bytes (version 0 pay to witness pubkey hash), OR
  // 2. `OP_0` `32` 32-bytes (version 0 pay to witness script hash), OR
  if (script[0] === OP_0) return (n === 22 && script[1] === 20) || (n === 34 && script[1] === 32);
  // 3. if (and only if) `option_shutdown_anysegwit` is negotiated: `OP_1` through `OP_16`
  //    inclusive, followed by a single push of 2 to 40 bytes
  const op = script[0] ?? -1;
  if (op >= OP_1 && op <= OP_16) {
    const push = script[1] ?? 0;
    return f.anySegwit && push >= 2 && push <= 40 && n === 2 + push;
  }
  // 4. if (and only if) `option_simple_close` is negotiated: `OP_RETURN` followed by one of
  //    `6` to `75` inclusive followed by exactly that many bytes, or `76` followed by `76` to
  //    `80` followed by exactly that many bytes
  if (op === OP_RETURN && f.simpleClose) {
    const push = script[1] ?? 0;
    if (push >= 6 && push <= 75) return n === 2 + push;
    if (push === OP_PUSHDATA1) {
      const len = script[2] ?? 0;
      return len >= 76 && len <= 80 && n === 3 + len;
    }
  }
  return false;
}
