/**
 * Which addresses of a keychain are given out and watched, with BIP 44's gap limit: a wallet
 * recovering from the seed scans each chain until it finds `gapLimit` unused addresses in a row
 * and stops there. So lnkit never gives out an address more than `gapLimit` past the last one
 * used on chain: once that many are out and unpaid, it gives them out again, from the first
 * unused one (an address given twice is not reused on chain until both payers pay it), rather
 * than one a recovery would never look at. Pure: no keys, no I/O.
 */
import type { Keychain } from './keys.ts';

export const DEFAULT_GAP_LIMIT = 20;

export interface KeychainState {
  /** The next index newAddress-like calls consider giving out. */
  readonly nextIndex: number;
  /** One past the highest index seen paid (in a block or the mempool); 0 when none. */
  readonly usedEnd: number;
}

export const EMPTY_KEYCHAIN: KeychainState = Object.freeze({ nextIndex: 0, usedEnd: 0 });

/** The index to give out now and the state after it. */
export function handOut(state: KeychainState, gapLimit: number): { index: number; next: KeychainState } {
  let index = Math.max(state.nextIndex, state.usedEnd);
  if (index >= state.usedEnd + gapLimit) index = state.usedEnd;
  return { index, next: { nextIndex: index + 1, usedEnd: state.usedEnd } };
}

/** After a payment to `index` was seen. */
export function markUsed(state: KeychainState, index: number): KeychainState {
  return index < state.usedEnd ? state : { nextIndex: state.nextIndex, usedEnd: index + 1 };
}

/** The indexes watched on chain: [0, usedEnd + gapLimit), which covers every index given out. */
export function watchedEnd(state: KeychainState, gapLimit: number): number {
  return Math.max(state.usedEnd + gapLimit, state.nextIndex);
}

/** scriptPubKey (hex) → its keychain and index, for the watched window of both keychains. */
export class ScriptIndex {
  private readonly byScript = new Map<string, { keychain: Keychain; index: number }>();
  private readonly derivedEnd: [number, number] = [0, 0];

  constructor(private readonly scriptAt: (keychain: Keychain, index: number) => Uint8Array) {}

  /** Derives scripts up to `end` (exclusive); true when new ones were added. */
  cover(keychain: Keychain, end: number): boolean {
    const from = this.derivedEnd[keychain];
    for (let i = from; i < end; i++) {
      this.byScript.set(Buffer.from(this.scriptAt(keychain, i)).toString('hex'), { keychain, index: i });
    }
    if (end <= from) return false;
    this.derivedEnd[keychain] = end;
    return true;
  }

  lookup(script: Uint8Array): { keychain: Keychain; index: number } | undefined {
    // Only P2WPKH (22 bytes) can be ours: skip the hex for every other output of a block.
    if (script.length !== 22 || script[0] !== 0x00 || script[1] !== 0x14) return undefined;
    return this.byScript.get(Buffer.from(script).toString('hex'));
  }

  get size(): number {
    return this.byScript.size;
  }
}
