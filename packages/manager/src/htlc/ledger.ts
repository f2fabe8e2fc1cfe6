/**
 * The HTLC ledger of one channel: every HTLC either side offered, each in its state through
 * BOLT 2's add / commit / revoke dance, and the pending update_fee changes. Pure data and pure
 * functions; the machine in normal.ts moves it.
 *
 * BOLT 2 "Normal Operation": "each update traverses through the following states: 1. pending
 * on the receiver 2. in the receiver's latest commitment transaction 3. ... and the receiver's
 * previous commitment transaction has been revoked, and the update is pending on the sender
 * 4. ... and in the sender's latest commitment transaction 5. ... and the sender's previous
 * commitment transaction has been revoked". An HTLC goes through that twice, once for its add
 * and once for its removal, which gives the ten classic states per direction (the names are
 * c-lightning's): what we sent or received last, for the add or the removal.
 *
 * "Local" is our commitment (the one the peer signs for us), "remote" theirs.
 */

/** Of an HTLC we offered. */
export type OfferedHtlcState =
  /** We sent update_add_htlc. */
  | 'sent-add-htlc'
  /** Our commitment_signed put it in their commitment. */
  | 'sent-add-commit'
  /** They revoked the commitment without it: pending on our side. */
  | 'rcvd-add-revocation'
  /** Their commitment_signed put it in ours. */
  | 'rcvd-add-ack-commit'
  /** We revoked ours without it: committed in both, irrevocably. */
  | 'sent-add-ack-revocation'
  /** They sent update_fulfill_htlc / update_fail_htlc / update_fail_malformed_htlc. */
  | 'rcvd-remove-htlc'
  /** Their commitment_signed removed it from ours. */
  | 'rcvd-remove-commit'
  /** We revoked ours with it. */
  | 'sent-remove-revocation'
  /** Our commitment_signed removed it from theirs; their revocation then removes it for good. */
  | 'sent-remove-ack-commit';

/** Of an HTLC they offered: the same dance, the roles swapped. */
export type ReceivedHtlcState =
  | 'rcvd-add-htlc'
  | 'rcvd-add-commit'
  | 'sent-add-revocation'
  | 'sent-add-ack-commit'
  /** Committed in both, irrevocably: ours to fulfill or fail. */
  | 'rcvd-add-ack-revocation'
  /** We sent update_fulfill_htlc / update_fail_htlc / update_fail_malformed_htlc. */
  | 'sent-remove-htlc'
  | 'sent-remove-commit'
  | 'rcvd-remove-revocation'
  /** Their commitment_signed removed it from ours; our revocation then removes it for good. */
  | 'rcvd-remove-ack-commit';

export type HtlcState = OfferedHtlcState | ReceivedHtlcState;

/** The states an update_fee goes through (it is never removed, only replaced). */
export type FeeUpdateState = Extract<
  HtlcState,
  | 'sent-add-htlc'
  | 'sent-add-commit'
  | 'rcvd-add-revocation'
  | 'rcvd-add-ack-commit'
  | 'rcvd-add-htlc'
  | 'rcvd-add-commit'
  | 'sent-add-revocation'
  | 'sent-add-ack-commit'
>;

/** How an HTLC was removed. */
export type HtlcRemoval =
  | { kind: 'fulfill'; paymentPreimage: Uint8Array }
  | { kind: 'fail'; reason: Uint8Array }
  | { kind: 'fail-malformed'; sha256OfOnion: Uint8Array; failureCode: number };

export interface LedgerHtlc {
  /** The htlc_id given by the side that offered it. */
  readonly id: bigint;
  /** 'offered' by us, or 'received' from them. */
  readonly direction: 'offered' | 'received';
  readonly amountMsat: bigint;
  readonly paymentHash: Uint8Array;
  readonly cltvExpiry: number;
  /** The 1366-byte onion of update_add_htlc (kept to retransmit it, or to peel it). */
  readonly onionRoutingPacket: Uint8Array;
  readonly blindedPathKey?: Uint8Array | undefined;
  readonly state: HtlcState;
  readonly removal?: HtlcRemoval | undefined;
  /** The order in which we sent our own update for it (add or removal): retransmission keeps it. */
  readonly addSeq?: number | undefined;
  readonly removeSeq?: number | undefined;
  /**
   * Received while the trimmed HTLCs were already at max_dust_htlc_exposure_msat: BOLT 2
   * "SHOULD fail this HTLC once it's committed, SHOULD NOT reveal a preimage for this HTLC".
   */
  readonly dustExposureExceeded?: boolean | undefined;
  /** Ours: its preimage came (and went to the monitor) in a fulfill since reversed by a disconnection. */
  readonly preimageKnown?: boolean | undefined;
  /** That preimage, kept so a restart can tell the payer again (restart.ts). */
  readonly paymentPreimage?: Uint8Array | undefined;
}

export interface FeeUpdate {
  readonly feeratePerKw: number;
  readonly state: FeeUpdateState;
  /** Set when we sent it. */
  readonly seq?: number | undefined;
}

export interface HtlcLedger {
  /** In the order they were added. */
  readonly htlcs: readonly LedgerHtlc[];
  /** The feerate both commitments have irrevocably. */
  readonly feeratePerKw: number;
  /** update_fee changes on their way, oldest first. */
  readonly feeUpdates: readonly FeeUpdate[];
  /**
   * The balances with every HTLC still in the ledger given back to the side that offered it:
   * a removed HTLC moves here when it leaves the ledger (to the receiver if fulfilled).
   */
  readonly settledLocalMsat: bigint;
  readonly settledRemoteMsat: bigint;
  /** BOLT 2: "MUST increase the value of id by 1 for each successive offer", on each side. */
  readonly nextOfferedId: bigint;
  readonly nextReceivedId: bigint;
  /** A counter ordering everything we send (updates, commitment_signed, revoke_and_ack). */
  readonly nextSeq: number;
}

export type CommitmentSide = 'local' | 'remote';
type Place = 'before' | 'in' | 'after';

/** Where an HTLC in each state stands in [our commitment, their commitment]. */
const PLACE: Record<HtlcState, readonly [Place, Place]> = {
  'sent-add-htlc': ['before', 'before'],
  'sent-add-commit': ['before', 'in'],
  'rcvd-add-revocation': ['before', 'in'],
  'rcvd-add-ack-commit': ['in', 'in'],
  'sent-add-ack-revocation': ['in', 'in'],
  'rcvd-remove-htlc': ['in', 'in'],
  'rcvd-remove-commit': ['after', 'in'],
  'sent-remove-revocation': ['after', 'in'],
  'sent-remove-ack-commit': ['after', 'after'],
  'rcvd-add-htlc': ['before', 'before'],
  'rcvd-add-commit': ['in', 'before'],
  'sent-add-revocation': ['in', 'before'],
  'sent-add-ack-commit': ['in', 'in'],
  'rcvd-add-ack-revocation': ['in', 'in'],
  'sent-remove-htlc': ['in', 'in'],
  'sent-remove-commit': ['in', 'after'],
  'rcvd-remove-revocation': ['in', 'after'],
  'rcvd-remove-ack-commit': ['after', 'after'],
};

export function placeIn(state: HtlcState, side: CommitmentSide): Place {
  return PLACE[state][side === 'local' ? 0 : 1];
}

/** The four moves of the dance. */
export type LedgerEvent = 'send-commit' | 'recv-commit' | 'send-revoke' | 'recv-revoke';

/** What each move does to each state; 'gone' removes the HTLC from the ledger. */
const MOVES: Record<LedgerEvent, Partial<Record<HtlcState, HtlcState | 'gone'>>> = {
  // Our commitment_signed: our updates, and theirs that our revocation acknowledged, go into theirs.
  'send-commit': {
    'sent-add-htlc': 'sent-add-commit',
    'sent-remove-revocation': 'sent-remove-ack-commit',
    'sent-add-revocation': 'sent-add-ack-commit',
    'sent-remove-htlc': 'sent-remove-commit',
  },
  'recv-revoke': {
    'sent-add-commit': 'rcvd-add-revocation',
    'sent-remove-ack-commit': 'gone',
    'sent-add-ack-commit': 'rcvd-add-ack-revocation',
    'sent-remove-commit': 'rcvd-remove-revocation',
  },
  'recv-commit': {
    'rcvd-add-htlc': 'rcvd-add-commit',
    'rcvd-remove-revocation': 'rcvd-remove-ack-commit',
    'rcvd-add-revocation': 'rcvd-add-ack-commit',
    'rcvd-remove-htlc': 'rcvd-remove-commit',
  },
  'send-revoke': {
    'rcvd-add-commit': 'sent-add-revocation',
    'rcvd-remove-ack-commit': 'gone',
    'rcvd-add-ack-commit': 'sent-add-ack-revocation',
    'rcvd-remove-commit': 'sent-remove-revocation',
  },
};

/** The fee update's last moves fold it into the ledger's feerate. */
const FEE_COMMITTED: Partial<Record<LedgerEvent, FeeUpdateState>> = {
  'send-revoke': 'rcvd-add-ack-commit',
  'recv-revoke': 'sent-add-ack-commit',
};

export function emptyLedger(a: {
  feeratePerKw: number;
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
}): HtlcLedger {
  return {
    htlcs: [],
    feeratePerKw: a.feeratePerKw,
    feeUpdates: [],
    settledLocalMsat: a.toLocalMsat,
    settledRemoteMsat: a.toRemoteMsat,
    nextOfferedId: 0n,
    nextReceivedId: 0n,
    nextSeq: 0,
  };
}

/** Whether `event` would change anything: a commitment_signed without changes is refused (BOLT 2). */
export function hasChanges(ledger: HtlcLedger, event: 'send-commit' | 'recv-commit'): boolean {
  const moves = MOVES[event];
  if (ledger.htlcs.some((h) => moves[h.state] !== undefined)) return true;
  return ledger.feeUpdates.some((f) => moves[f.state] !== undefined);
}

export interface MoveResult {
  ledger: HtlcLedger;
  /** HTLCs that left the ledger with this move (their removal committed on both sides). */
  resolved: LedgerHtlc[];
  /** Received HTLCs that became irrevocably committed in both commitments with this move. */
  committed: LedgerHtlc[];
}

/** Applies one move of the dance to every HTLC and fee update. */
export function applyMove(ledger: HtlcLedger, event: LedgerEvent): MoveResult {
  const moves = MOVES[event];
  const htlcs: LedgerHtlc[] = [];
  const resolved: LedgerHtlc[] = [];
  const committed: LedgerHtlc[] = [];
  let { settledLocalMsat, settledRemoteMsat } = ledger;
  for (const h of ledger.htlcs) {
    const next = moves[h.state];
    if (next === undefined) {
      htlcs.push(h);
    } else if (next === 'gone') {
      resolved.push(h);
      if (h.removal?.kind === 'fulfill') {
        // The amount was the offerer's in the settled balances: a fulfilled HTLC pays the receiver.
        if (h.direction === 'offered') {
          settledLocalMsat -= h.amountMsat;
          settledRemoteMsat += h.amountMsat;
        } else {
          settledLocalMsat += h.amountMsat;
          settledRemoteMsat -= h.amountMsat;
        }
      }
    } else {
      const moved = { ...h, state: next };
      htlcs.push(moved);
      if (next === 'rcvd-add-ack-revocation') committed.push(moved);
    }
  }
  let feeratePerKw = ledger.feeratePerKw;
  let feeUpdates: FeeUpdate[] = [];
  const committedFee = FEE_COMMITTED[event];
  for (const f of ledger.feeUpdates) {
    if (committedFee !== undefined && f.state === committedFee) {
      // Irrevocably in both commitments: it and every older one are history.
      feeratePerKw = f.feeratePerKw;
      feeUpdates = [];
      continue;
    }
    const next = moves[f.state];
    feeUpdates.push(next === undefined || next === 'gone' ? f : { ...f, state: next as FeeUpdateState });
  }
  return {
    ledger: { ...ledger, htlcs, feeUpdates, feeratePerKw, settledLocalMsat, settledRemoteMsat },
    resolved,
    committed,
  };
}

/**
 * The HTLCs of a commitment. `projected`: as if every update proposed so far were in it —
 * what BOLT 2's limits are checked against ("after adding that HTLC").
 */
export function htlcsOf(ledger: HtlcLedger, side: CommitmentSide, projected = false): LedgerHtlc[] {
  return ledger.htlcs.filter((h) => {
    const p = placeIn(h.state, side);
    return p === 'in' || (projected && p === 'before');
  });
}

/** The feerate of a commitment: the newest update_fee in it, else the committed one. */
export function feerateOf(ledger: HtlcLedger, side: CommitmentSide, projected = false): number {
  let rate = ledger.feeratePerKw;
  for (const f of ledger.feeUpdates) {
    const p = placeIn(f.state, side);
    if (p === 'in') rate = f.feeratePerKw;
    // Checks take the higher of the current and any proposed feerate.
    else if (projected && f.feeratePerKw > rate) rate = f.feeratePerKw;
  }
  return rate;
}

/** Our balance and theirs in a commitment, to the msat, with its HTLCs taken out. */
export function balancesOf(
  ledger: HtlcLedger,
  side: CommitmentSide,
  projected = false,
): { toLocalMsat: bigint; toRemoteMsat: bigint } {
  let local = ledger.settledLocalMsat;
  let remote = ledger.settledRemoteMsat;
  for (const h of ledger.htlcs) {
    const p = placeIn(h.state, side);
    const inIt = p === 'in' || (projected && p === 'before');
    const paid = p === 'after' && h.removal?.kind === 'fulfill';
    if (!inIt && !paid) continue;
    if (h.direction === 'offered') {
      local -= h.amountMsat;
      if (paid) remote += h.amountMsat;
    } else {
      remote -= h.amountMsat;
      if (paid) local += h.amountMsat;
    }
  }
  return { toLocalMsat: local, toRemoteMsat: remote };
}

export function findHtlc(
  ledger: HtlcLedger,
  direction: 'offered' | 'received',
  id: bigint,
): LedgerHtlc | undefined {
  return ledger.htlcs.find((h) => h.direction === direction && h.id === id);
}

export function replaceHtlc(ledger: HtlcLedger, next: LedgerHtlc): HtlcLedger {
  return {
    ...ledger,
    htlcs: ledger.htlcs.map((h) => (h.direction === next.direction && h.id === next.id ? next : h)),
  };
}

/** Adds a fee update; an earlier one of the same sender not yet signed for is replaced by it. */
export function proposeFee(ledger: HtlcLedger, update: FeeUpdate): HtlcLedger {
  const last = ledger.feeUpdates.at(-1);
  const keep = last?.state === update.state ? ledger.feeUpdates.slice(0, -1) : ledger.feeUpdates;
  return { ...ledger, feeUpdates: [...keep, update] };
}

/**
 * BOLT 2 "Message Retransmission": "upon disconnection: MUST reverse any uncommitted updates
 * sent by the other side (i.e. all messages beginning with update_ for which no
 * commitment_signed has been received)". Their adds go (and their ids are given again), their
 * removals are undone; ours stay, to be sent again after channel_reestablish.
 */
export function reverseUncommittedRemote(ledger: HtlcLedger): HtlcLedger {
  let nextReceivedId = ledger.nextReceivedId;
  const htlcs: LedgerHtlc[] = [];
  for (const h of ledger.htlcs) {
    if (h.state === 'rcvd-add-htlc') {
      if (h.id < nextReceivedId) nextReceivedId = h.id;
      continue;
    }
    if (h.state !== 'rcvd-remove-htlc') {
      htlcs.push(h);
      continue;
    }
    // "a node MAY have already used the payment_preimage value from the update_fulfill_htlc,
    // so the effects of update_fulfill_htlc are not completely reversed".
    const preimageKnown = h.preimageKnown || h.removal?.kind === 'fulfill' || undefined;
    const paymentPreimage = h.removal?.kind === 'fulfill' ? h.removal.paymentPreimage : h.paymentPreimage;
    htlcs.push({
      ...h,
      state: 'sent-add-ack-revocation',
      removal: undefined,
      preimageKnown,
      paymentPreimage,
    });
  }
  const feeUpdates = ledger.feeUpdates.filter((f) => f.state !== 'rcvd-add-htlc');
  return { ...ledger, htlcs, feeUpdates, nextReceivedId };
}
