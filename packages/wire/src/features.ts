// BOLT 9 feature bits: a value type over a bit vector, the known-features table with
// contexts and dependencies, and validation per context.
import { WireError } from './errors.ts';

/**
 * BOLT 9 contexts: I = init, N = node_announcement, C = channel_announcement
 * (C- always odd, C+ always even), 9 = BOLT 11 invoice, B = blinded path
 * allowed_features, T = channel_type.
 */
export type FeatureContext =
  | 'init'
  | 'node_announcement'
  | 'channel_announcement'
  | 'invoice'
  | 'blinded_path'
  | 'channel_type';

type ContextLetter = 'I' | 'N' | 'C' | 'C-' | 'C+' | '9' | 'B' | 'T';

export interface KnownFeature {
  readonly name: string;
  /** The even (required) bit; the odd (optional) bit is `bit + 1`. */
  readonly bit: number;
  readonly contexts: readonly ContextLetter[];
  readonly dependencies: readonly string[];
  /** BOLT 9 "ASSUMED": universal; still set by peers, so still accepted. */
  readonly assumed: boolean;
}

const f = (
  name: string,
  bit: number,
  contexts: string,
  dependencies: string[] = [],
  assumed = false,
): KnownFeature =>
  Object.freeze({
    name,
    bit,
    contexts: parseContexts(contexts),
    dependencies: Object.freeze(dependencies),
    assumed,
  });

function parseContexts(s: string): ContextLetter[] {
  const out: ContextLetter[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === 'C' && (s[i + 1] === '-' || s[i + 1] === '+')) {
      out.push(`C${s[i + 1]}` as ContextLetter);
      i++;
    } else out.push(c as ContextLetter);
  }
  return out;
}

// BOLT 9 table. The ASSUMED rows have an empty Context column today; they carry the
// contexts of the revision that defined them, because peers still set those bits
// (init, node_announcement, invoices, channel_type for static_remotekey) and rejecting
// them would cut us off from the network. `gossip_queries` likewise has no context
// column but BOLT 7 ("SHOULD NOT send this to a peer which does not offer
// gossip_queries") makes it an init/node_announcement feature.
export const KNOWN_FEATURES: readonly KnownFeature[] = Object.freeze([
  f('option_data_loss_protect', 0, 'IN', [], true),
  f('option_upfront_shutdown_script', 4, 'IN'),
  f('gossip_queries', 6, 'IN'),
  f('var_onion_optin', 8, 'IN9', [], true),
  f('gossip_queries_ex', 10, 'IN'),
  f('option_static_remotekey', 12, 'INT', [], true),
  f('payment_secret', 14, 'IN9', [], true),
  f('basic_mpp', 16, 'IN9', ['payment_secret']),
  f('option_support_large_channel', 18, 'IN'),
  f('option_anchors', 22, 'INT'),
  f('option_route_blinding', 24, 'IN9'),
  f('option_shutdown_anysegwit', 26, 'IN'),
  f('option_dual_fund', 28, 'IN'),
  f('option_quiesce', 34, 'IN'),
  f('option_attribution_data', 36, 'IN9'),
  f('option_onion_messages', 38, 'IN'),
  f('option_provide_storage', 42, 'IN'),
  f('option_channel_type', 44, 'IN', [], true),
  f('option_scid_alias', 46, 'INT'),
  f('option_payment_metadata', 48, '9'),
  f('option_zeroconf', 50, 'INT', ['option_scid_alias']),
  f('option_simple_close', 60, 'IN', ['option_shutdown_anysegwit']),
  f('option_splice', 62, 'IN'),
]);

export type FeatureName = string;

const byName = new Map(KNOWN_FEATURES.map((k) => [k.name, k]));
const byPair = new Map(KNOWN_FEATURES.map((k) => [k.bit >> 1, k]));

export function knownFeature(name: FeatureName): KnownFeature {
  const k = byName.get(name);
  if (!k) throw new WireError('invalid-feature', `unknown feature name ${name}`);
  return k;
}

/** The known feature that owns `bit` (either of its pair), if any. */
export function featureForBit(bit: number): KnownFeature | undefined {
  return byPair.get(bit >> 1);
}

const CONTEXT_LETTER: Record<FeatureContext, ContextLetter> = {
  init: 'I',
  node_announcement: 'N',
  channel_announcement: 'C',
  invoice: '9',
  blinded_path: 'B',
  channel_type: 'T',
};

/**
 * An immutable feature vector. Bit 0 is the least-significant bit of the last byte
 * (BOLT 9: "Flags are numbered from the least-significant bit"). The bytes given to
 * `fromBytes` are kept as they came (including leading zero bytes) so a decoded
 * message re-encodes byte for byte; anything built with set/or/and is minimal.
 */
export class Features {
  private readonly raw: Uint8Array;

  private constructor(raw: Uint8Array) {
    this.raw = raw;
  }

  static empty(): Features {
    return new Features(new Uint8Array(0));
  }

  static fromBytes(bytes: Uint8Array): Features {
    return new Features(bytes.slice());
  }

  static fromBits(bits: Iterable<number>): Features {
    const list = [...bits];
    for (const b of list) checkBit(b);
    const max = list.length === 0 ? -1 : Math.max(...list);
    const raw = new Uint8Array(max < 0 ? 0 : (max >> 3) + 1);
    for (const b of list) raw[raw.length - 1 - (b >> 3)]! |= 1 << (b & 7);
    return new Features(raw);
  }

  /** Features by name: `optional` sets the odd bit (supported), `required` the even one. */
  static of(spec: { required?: FeatureName[]; optional?: FeatureName[] }): Features {
    const bits: number[] = [];
    for (const n of spec.required ?? []) bits.push(knownFeature(n).bit);
    for (const n of spec.optional ?? []) bits.push(knownFeature(n).bit + 1);
    return Features.fromBits(bits);
  }

  /** The bytes as decoded (or minimal, if built here). */
  toBytes(): Uint8Array {
    return this.raw.slice();
  }

  /** Minimal-length bytes (BOLT 1: "SHOULD use the minimum length required"). */
  toMinimalBytes(): Uint8Array {
    let i = 0;
    while (i < this.raw.length && this.raw[i] === 0) i++;
    return this.raw.slice(i);
  }

  get byteLength(): number {
    return this.raw.length;
  }

  isSet(bit: number): boolean {
    if (!Number.isInteger(bit) || bit < 0) return false;
    const idx = this.raw.length - 1 - (bit >> 3);
    if (idx < 0) return false;
    return ((this.raw[idx] ?? 0) & (1 << (bit & 7))) !== 0;
  }

  /** Set bits in ascending order. */
  bits(): number[] {
    const out: number[] = [];
    for (let i = this.raw.length - 1; i >= 0; i--) {
      const byte = this.raw[i] ?? 0;
      if (byte === 0) continue;
      const base = (this.raw.length - 1 - i) * 8;
      for (let b = 0; b < 8; b++) if (byte & (1 << b)) out.push(base + b);
    }
    return out;
  }

  isEmpty(): boolean {
    return this.raw.every((b) => b === 0);
  }

  /** Offered as either bit of the pair (BOLT 1: "offered ... as either even or odd"). */
  supports(name: FeatureName): boolean {
    const k = knownFeature(name);
    return this.isSet(k.bit) || this.isSet(k.bit + 1);
  }

  /** The even bit is set (BOLT 9: if both bits are set, treat as mandatory). */
  requires(name: FeatureName): boolean {
    return this.isSet(knownFeature(name).bit);
  }

  set(bit: number): Features {
    checkBit(bit);
    return Features.fromBits([...this.bits(), bit]);
  }

  clear(bit: number): Features {
    return Features.fromBits(this.bits().filter((b) => b !== bit));
  }

  /** Bitwise OR (BOLT 1: init combines globalfeatures and features this way). */
  or(other: Features): Features {
    return Features.fromBits([...this.bits(), ...other.bits()]);
  }

  /** Bitwise AND of the raw bits. */
  and(other: Features): Features {
    return Features.fromBits(this.bits().filter((b) => other.isSet(b)));
  }

  /**
   * Names of known features both sides offer (BOLT 1: negotiated if "both peers
   * offered it, or the local node offered it as even").
   */
  negotiatedWith(remote: Features): FeatureName[] {
    const out: FeatureName[] = [];
    for (const k of KNOWN_FEATURES) {
      const local = this.isSet(k.bit) || this.isSet(k.bit + 1);
      const theirs = remote.isSet(k.bit) || remote.isSet(k.bit + 1);
      if ((local && theirs) || this.isSet(k.bit)) out.push(k.name);
    }
    return out;
  }

  equals(other: Features): boolean {
    const a = this.bits();
    const b = other.bits();
    return a.length === b.length && a.every((x, i) => x === b[i]);
  }

  toString(): string {
    return this.bits()
      .map((b) => {
        const k = featureForBit(b);
        return k ? `${k.name}/${b % 2 === 0 ? 'required' : 'optional'}` : `bit${b}`;
      })
      .join(',');
  }
}

function checkBit(bit: number): void {
  // 65535-byte messages bound any feature field well below this.
  if (!Number.isInteger(bit) || bit < 0 || bit >= 8 * 0xffff)
    throw new WireError('invalid-feature', `bad feature bit ${bit}`);
}

export type FeatureProblem =
  | { readonly reason: 'unknown-required'; readonly bit: number }
  | { readonly reason: 'wrong-context'; readonly bit: number; readonly feature: FeatureName }
  | { readonly reason: 'missing-dependency'; readonly feature: FeatureName; readonly dependency: FeatureName }
  | { readonly reason: 'wrong-parity'; readonly bit: number; readonly feature: FeatureName };

/**
 * Every BOLT 9 rule `features` breaks in `context` (empty when valid):
 * - an unknown even bit (BOLT 1: "unknown even feature bits ... MUST close the connection");
 * - a known feature set in a context its Context column does not list;
 * - a known feature whose dependency is not set ("MUST set all transitive feature
 *   dependencies"; "if the feature vector does not set all known, transitive
 *   dependencies: MUST close the connection"). Not checked for channel_type, which
 *   names a commitment format, not a node's capabilities;
 * - C- / C+ parity in channel_announcement.
 * Unknown odd bits are fine ("MUST ignore the bit").
 */
export function featureProblems(features: Features, context: FeatureContext): FeatureProblem[] {
  const letter = CONTEXT_LETTER[context];
  const problems: FeatureProblem[] = [];
  for (const bit of features.bits()) {
    const k = featureForBit(bit);
    if (!k) {
      if (bit % 2 === 0) problems.push({ reason: 'unknown-required', bit });
      continue;
    }
    const allowed = k.contexts.some((c) => c === letter || (letter === 'C' && c.startsWith('C')));
    if (!allowed) {
      problems.push({ reason: 'wrong-context', bit, feature: k.name });
      continue;
    }
    if (letter === 'C' && k.contexts.includes('C-') && bit % 2 === 0)
      problems.push({ reason: 'wrong-parity', bit, feature: k.name });
    if (letter === 'C' && k.contexts.includes('C+') && bit % 2 === 1)
      problems.push({ reason: 'wrong-parity', bit, feature: k.name });
  }
  if (context !== 'channel_type') {
    for (const k of KNOWN_FEATURES) {
      if (!(features.isSet(k.bit) || features.isSet(k.bit + 1))) continue;
      for (const dep of k.dependencies) {
        if (!features.supports(dep))
          problems.push({ reason: 'missing-dependency', feature: k.name, dependency: dep });
      }
    }
  }
  return problems;
}

/** Throws WireError 'invalid-feature' describing the first problem, if any. */
export function validateFeatures(features: Features, context: FeatureContext): void {
  const p = featureProblems(features, context)[0];
  if (!p) return;
  const what =
    p.reason === 'unknown-required'
      ? `unknown required bit ${p.bit}`
      : p.reason === 'missing-dependency'
        ? `${p.feature} requires ${p.dependency}`
        : p.reason === 'wrong-context'
          ? `${p.feature} (bit ${p.bit}) is not allowed in ${context}`
          : `${p.feature} (bit ${p.bit}) has the wrong parity for ${context}`;
  throw new WireError('invalid-feature', what, context);
}
