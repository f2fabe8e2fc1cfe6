/**
 * The deterministic simulation of two channel cores (in the spirit of LDK's chanmon_consistency):
 * a seeded scheduler interleaves both sides' commands (add, fulfill, fail, update_fee, commit),
 * delivers messages one at a time in order per direction, holds persists and completes them
 * late, drops the connection (with channel_reestablish), and crashes a node at any point — also
 * between one effect of a step and the next. A crashed node comes back from exactly what it had
 * made durable: its last snapshot (the state after its last step, before that step's effects,
 * as the manager writes it, through the snapshot's own record) and the monitor updates that
 * completed (of those in progress, the first few, a random number of them, landed), through
 * restartNormal — the function restore.ts uses.
 *
 * What is checked after every operation, and where it happens:
 * - msat are conserved: in each side's view, each commitment's balances and HTLCs make the
 *   funding; where both sides are settled, they see the same commitments;
 * - the durable monitor only ever takes the next update id, holder and counterparty commitments
 *   one after the other, at most two counterparty commitments live (what @lnkit/monitor refuses);
 * - a revoke_and_ack leaves only once the monitor holds the next commitment durably: the
 *   broadcastable commitment is never one whose secret the peer has;
 * - a counterparty commitment is never signed once revoked, nor signed twice differently;
 * - a restart always resumes (an honest node is never left to its monitor);
 * - at the end every HTLC is fulfilled or failed, balances are what was paid, and both sides
 *   hold the same two commitments.
 */
import { randomBytes, sha256 } from '@lnkit/crypto';
import { generateFromSeed, KeysManager, secretIndex } from '@lnkit/keys';
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { balancesOf, htlcsOf } from './ledger.ts';
import { decodeNormalState, encodeNormalState } from './normal-record.ts';
import type { NormalEffect, NormalState } from './normal-state.ts';
import { type MonitorView, restartNormal, viewAfter } from './restart.ts';
import { HtlcNode, htlcPair, pump, reconnect } from './test-harness.ts';

export const FUNDING_MSAT = 1_000_000_000n;
const PUSH_MSAT = 300_000_000n;

/** Thrown from inside a step to stop the node where it is. */
export class Crash extends Error {}

/** An invariant broken: the simulation's finding. */
export class SimFailure extends Error {}

function check(ok: unknown, message: string): asserts ok {
  if (!ok) throw new SimFailure(message);
}

export function prng(seed: number): () => number {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimNode extends HtlcNode {
  /** The monitor as on disk: what a restart finds. */
  view: MonitorView = {
    latestUpdateId: 1n,
    holderCommitmentNumber: 0n,
    counterpartyCommitments: [{ commitmentNumber: 0n, txid: '' }],
  };
  /** The snapshot as written (the record's bytes). */
  snapshot?: Uint8Array;
  /** Effects left before the node crashes (undefined: not armed). */
  crashIn?: number | undefined;
  restarts = 0;
  /** Highest secret of ours given to the peer (across restarts: the peer keeps it). */
  maxSecretSent = -1n;
  /** Sighash of every counterparty commitment signed, by number (across restarts). */
  readonly signed = new Map<bigint, string>();
  declare other: SimNode;
  override persistInOrder = true;

  constructor(
    name: string,
    readonly seed: Uint8Array,
  ) {
    super(name, new KeysManager(seed).createChannelSigner(0n));
  }

  /** The restart's own state is not written before its effects (the manager's start writes none). */
  #restarting = false;
  protected override stepped(state: NormalState): void {
    if (this.#restarting) this.#restarting = false;
    else this.snapshot = encodeNormalState(state);
  }

  protected override beforeEffect(e: NormalEffect): void {
    if (this.crashIn !== undefined && this.crashIn-- <= 0) {
      this.crashIn = undefined;
      throw new Crash(`${this.name} crashed before ${e.kind}`);
    }
    if (e.kind === 'sign-counterparty-commitment') {
      // Never a commitment the peer revoked, never two different ones under one number.
      check(
        e.commitmentNumber > this.other.maxSecretSent,
        `${this.name} signs their commitment ${e.commitmentNumber}, revoked (secret ${this.other.maxSecretSent} received)`,
      );
      const sighash = Buffer.from(e.sighash).toString('hex');
      const before = this.signed.get(e.commitmentNumber);
      check(
        before === undefined || before === sighash,
        `${this.name} signs two different commitments ${e.commitmentNumber}`,
      );
      this.signed.set(e.commitmentNumber, sighash);
    }
    if (e.kind === 'send' && e.message.kind === 'revoke_and_ack' && this.connected) {
      const n = this.revokedBy(e.message.perCommitmentSecret);
      // The commitment on disk must be past the one this secret revokes.
      check(
        this.view.holderCommitmentNumber > n,
        `${this.name} revokes commitment ${n} while its monitor holds ${this.view.holderCommitmentNumber}`,
      );
      if (n > this.maxSecretSent) this.maxSecretSent = n;
    }
  }

  #commitmentSeed?: Uint8Array;
  /** Which of our commitments a secret revokes, from the seed alone (not from the core). */
  private revokedBy(secret: Uint8Array): bigint {
    this.#commitmentSeed ??= new KeysManager(this.seed).deriveChannelKeys(0n).commitmentSeed;
    const commitmentSeed = this.#commitmentSeed;
    for (let n = this.state.commitments.holder.number + 1n; n >= 0n; n--)
      if (Buffer.from(generateFromSeed(commitmentSeed, secretIndex(n))).equals(secret)) return n;
    throw new SimFailure(`${this.name} sent a secret of none of its commitments`);
  }

  protected override durable(update: ChannelMonitorUpdate): void {
    const v = this.view;
    check(
      update.updateId === v.latestUpdateId + 1n,
      `${this.name}'s monitor got update ${update.updateId} after ${v.latestUpdateId}`,
    );
    for (const step of update.steps) {
      if (step.kind === 'holder-commitment')
        check(
          step.commitment.commitmentNumber === v.holderCommitmentNumber + 1n,
          `${this.name}'s monitor: holder commitment ${step.commitment.commitmentNumber} after ${v.holderCommitmentNumber}`,
        );
      if (step.kind === 'counterparty-commitment')
        check(
          v.counterpartyCommitments.length === 1 &&
            step.commitment.commitmentNumber === (v.counterpartyCommitments[0]?.commitmentNumber ?? -1n) + 1n,
          `${this.name}'s monitor: counterparty commitment ${step.commitment.commitmentNumber} while ${v.counterpartyCommitments.length} live`,
        );
      if (step.kind === 'commitment-secret')
        check(
          v.counterpartyCommitments.length === 2 &&
            v.counterpartyCommitments[0]?.commitmentNumber === step.commitmentNumber,
          `${this.name}'s monitor: a secret for ${step.commitmentNumber} not awaited`,
        );
    }
    this.view = viewAfter(v, update);
  }

  /**
   * The node stops where it is and starts again from disk: the persists in progress land in
   * order, `landed` of them; the rest and everything in flight on the connection are lost.
   */
  async restart(landed: number, crashIn?: number): Promise<void> {
    const inProgress = this.held.splice(0);
    for (const id of inProgress.slice(0, landed)) {
      const u = [...this.persisted].reverse().find((x) => x.updateId === id);
      if (u) this.durable(u);
    }
    this.restarts++;
    // It may stop again in the middle of its own restart.
    this.crashIn = crashIn;
    const snapshot = this.snapshot;
    check(snapshot, `${this.name} has no snapshot`);
    const saved = decodeNormalState(snapshot, this.state.params);
    const r = restartNormal(saved, this.view);
    check(r.ok, `${this.name} not resumed: ${r.ok ? '' : r.reason}`);
    const last = this.view.counterpartyCommitments.at(-1)?.commitmentNumber ?? 0n;
    // The signer at the monitor's state, as the manager makes it (signerStateOf).
    this.signer = new KeysManager(this.seed).createChannelSigner(0n, {
      holderCommitmentNumber: this.view.holderCommitmentNumber,
      revokedBelow: this.view.holderCommitmentNumber,
      counterpartyCommitmentNumber: last,
    });
    this.#restarting = true;
    await this.perform({ state: r.state, effects: r.effects });
  }
}

export interface SimStats {
  ops: number;
  fulfilled: number;
  failed: number;
  crashes: number;
  reestablished: number;
  feeUpdates: number;
  /** Operations that found the link up (the rest only deliver, persist, reconnect). */
  connectedOps: number;
  /** Quiet points where both sides were checked to hold the same commitments. */
  agreements: number;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fatal = (n: HtlcNode) => n.failures.filter((f) => f.kind !== 'refused');

function checkConserved(n: HtlcNode, where: string): void {
  for (const side of ['local', 'remote'] as const) {
    const b = balancesOf(n.state.ledger, side);
    const inFlight = htlcsOf(n.state.ledger, side).reduce((s, h) => s + h.amountMsat, 0n);
    check(
      b.toLocalMsat + b.toRemoteMsat + inFlight === FUNDING_MSAT,
      `${where}: ${n.name}'s ${side} commitment holds ${b.toLocalMsat + b.toRemoteMsat + inFlight} msat`,
    );
  }
}

/** Settled and connected, nothing in flight: both must see the same two commitments. */
function checkAgreement(a: SimNode, b: SimNode, where: string, stats?: SimStats): void {
  const quiet =
    a.connected &&
    a.state.link === 'connected' &&
    b.state.link === 'connected' &&
    a.inbox.length + b.inbox.length + a.held.length + b.held.length === 0 &&
    a.state.outbox.length + b.state.outbox.length === 0;
  if (!quiet) return;
  if (stats) stats.agreements++;
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    check(
      x.state.commitments.holder.number === y.state.commitments.counterparty.number,
      `${where}: ${x.name} holds commitment ${x.state.commitments.holder.number}, ${y.name} signed ${y.state.commitments.counterparty.number}`,
    );
    const mine = balancesOf(x.state.ledger, 'local');
    const theirs = balancesOf(y.state.ledger, 'remote');
    check(
      mine.toLocalMsat === theirs.toRemoteMsat && mine.toRemoteMsat === theirs.toLocalMsat,
      `${where}: ${x.name}'s commitment balances differ from ${y.name}'s view of it`,
    );
  }
}

/** One seed: `ops` random operations, then everything settled; throws SimFailure (or any error). */
export type SimTrace = (op: number, r: number, n: SimNode, a: SimNode, b: SimNode) => void;

export async function simulate(seed: number, ops: number, trace?: SimTrace): Promise<SimStats> {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const seedBytes = (n: number) => sha256(new TextEncoder().encode(`sim ${seed} ${n}`));
  const { a, b } = await htlcPair<SimNode>(
    { pushMsat: PUSH_MSAT, a: { maxAcceptedHtlcs: 16 }, b: { maxAcceptedHtlcs: 16 } },
    (name) => new SimNode(name, seedBytes(name === 'A' ? 1 : 2)),
  );
  const nodes = [a, b] as const;
  const stats: SimStats = {
    ops,
    fulfilled: 0,
    failed: 0,
    crashes: 0,
    reestablished: 0,
    feeUpdates: 0,
    connectedOps: 0,
    agreements: 0,
  };
  const preimages = new Map<string, Uint8Array>();
  /** What the receiver decided, by `${offerer}:${id}` (a command taken is final: its snapshot has it). */
  const decided = new Map<string, { fulfilled: boolean; amountMsat: bigint }>();
  let counter = 0;

  const settleable = (n: HtlcNode) =>
    n.state.ledger.htlcs.filter((h) => h.state === 'rcvd-add-ack-revocation');
  const settle = async (n: SimNode, how: 'fulfill' | 'fail' | 'malformed') => {
    const h = pick(settleable(n));
    if (!h) return;
    const preimage = preimages.get(hex(h.paymentHash)) as Uint8Array;
    // Decided once the step is taken, even if the node crashes in its effects (its snapshot has it).
    const key = `${n.other.name}:${h.id}`;
    decided.set(key, { fulfilled: how === 'fulfill', amountMsat: h.amountMsat });
    const r =
      how === 'fulfill'
        ? await n.input({ kind: 'fulfill-htlc', id: h.id, paymentPreimage: preimage })
        : how === 'fail'
          ? await n.input({ kind: 'fail-htlc', id: h.id, reason: randomBytes(8) })
          : await n.input({
              kind: 'fail-malformed-htlc',
              id: h.id,
              sha256OfOnion: sha256(h.onionRoutingPacket),
              failureCode: 0xc005,
            });
    if (r.failure) decided.delete(key);
  };
  const disconnectBoth = async () => {
    a.connected = b.connected = false;
    a.inbox.length = b.inbox.length = 0;
    for (const n of nodes) if (n.state.link !== 'disconnected') await n.input({ kind: 'peer-disconnected' });
  };
  /** Runs `f`; a crash inside it restarts that node from disk. */
  const guarded = async (f: () => Promise<unknown>) => {
    let next = f;
    for (;;) {
      try {
        await next();
        return;
      } catch (err) {
        if (!(err instanceof Crash)) throw err;
        const crashed = err.message.startsWith('A') ? a : b;
        stats.crashes++;
        await disconnectBoth();
        const landed = Math.floor(rnd() * (crashed.held.length + 1));
        const again = rnd() < 0.1 ? Math.floor(rnd() * 3) : undefined;
        next = () => crashed.restart(landed, again);
      }
    }
  };

  for (let op = 0; op < ops; op++) {
    const n = pick(nodes);
    const up = a.connected && a.state.link === 'connected' && b.state.link === 'connected';
    const r = rnd();
    await guarded(async () => {
      if (r < 0.11) {
        if (!up) return;
        counter++;
        const p = new Uint8Array(32);
        new DataView(p.buffer).setUint32(0, counter);
        p[31] = seed & 0xff;
        preimages.set(hex(sha256(p)), p);
        await n.add(BigInt(1_000 + Math.floor(rnd() * 5_000_000)), p);
      } else if (r < 0.22) {
        if (up) await n.input({ kind: 'commit' });
      } else if (r < 0.34) {
        if (up) await settle(n, rnd() < 0.7 ? 'fulfill' : rnd() < 0.8 ? 'fail' : 'malformed');
      } else if (r < 0.37) {
        // Only the funder may (BOLT 2); B's tries are refused, which is part of the test.
        if (up) {
          const rate = 253 + Math.floor(rnd() * 4000);
          const s = await n.input({ kind: 'update-fee', feeratePerKw: rate });
          if (!s.failure) stats.feeUpdates++;
        }
      } else if (r < 0.75) {
        // A few messages of one direction, in order (a connection lives longer than a message).
        for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
          const m = n.inbox.shift();
          if (!m) break;
          await n.deliver(m);
        }
      } else if (r < 0.8) {
        n.holdPersists = !n.holdPersists;
      } else if (r < 0.9) {
        // Late, in order: the first few of those in progress.
        if (n.held.length > 0) await n.complete(n.held.slice(0, 1 + Math.floor(rnd() * n.held.length)));
      } else if (r < 0.907) {
        if (a.connected) await disconnectBoth();
      } else if (r < 0.99) {
        if (!a.connected) {
          await reconnect(a, b);
          stats.reestablished++;
        }
      } else if (r < 0.998) {
        // Crash somewhere inside the node's next few effects.
        n.crashIn = Math.floor(rnd() * 6);
      } else {
        // Crash now, between steps.
        throw new Crash(`${n.name} crashed between steps`);
      }
    });
    if (up) stats.connectedOps++;
    const where = `seed ${seed} op ${op}`;
    if (trace) trace(op, r, n, a, b);
    for (const x of nodes) {
      const signer = x.signer.state();
      check(
        signer.revokedBelow <= signer.holderCommitmentNumber,
        `${where}: ${x.name}'s signer released the secret of its latest commitment`,
      );
      check(
        x.view.holderCommitmentNumber > x.maxSecretSent,
        `${where}: ${x.name}'s monitor holds commitment ${x.view.holderCommitmentNumber}, revoked`,
      );
      check(
        fatal(x).length === 0,
        `${where}: ${x.name} failed the channel: ${JSON.stringify(fatal(x)[0], big)}`,
      );
      checkConserved(x, where);
    }
    checkAgreement(a, b, where, stats);
  }

  // Drain: no more crashes, everything persisted, reconnected, settled.
  for (const x of nodes) {
    x.crashIn = undefined;
    x.holdPersists = false;
  }
  for (let round = 0; round < 40; round++) {
    if (!a.connected || a.state.link !== 'connected' || b.state.link !== 'connected') {
      await disconnectBoth();
      await reconnect(a, b);
      stats.reestablished++;
    }
    await a.complete();
    await b.complete();
    await pump(a, b);
    await a.input({ kind: 'commit' });
    await b.input({ kind: 'commit' });
    await pump(a, b);
    checkAgreement(a, b, `seed ${seed} drain ${round}`);
    for (const x of nodes) while (settleable(x).length > 0) await settle(x, 'fulfill');
    if (a.state.ledger.htlcs.length + b.state.ledger.htlcs.length + a.inbox.length + b.inbox.length === 0)
      break;
  }
  const where = `seed ${seed} end`;
  for (const x of nodes) check(fatal(x).length === 0, `${where}: ${x.name} failed the channel`);
  check(
    a.state.ledger.htlcs.length + b.state.ledger.htlcs.length === 0,
    `${where}: HTLCs left (${a.state.ledger.htlcs.length} at A, ${b.state.ledger.htlcs.length} at B)`,
  );
  let expectA = FUNDING_MSAT - PUSH_MSAT;
  for (const [key, d] of decided) {
    // Both sides heard it leave (told again after a restart at worst, never lost).
    const [offerer, id] = key.split(':') as [string, string];
    for (const [x, direction] of [
      [offerer === 'A' ? a : b, 'offered'],
      [offerer === 'A' ? b : a, 'received'],
    ] as const)
      check(
        x.events.some(
          (e) =>
            e.type === 'htlc-resolved' &&
            e.direction === direction &&
            e.id === BigInt(id) &&
            (e.removal.kind === 'fulfill') === d.fulfilled,
        ),
        `${where}: ${x.name} never heard ${direction} HTLC ${id} was ${d.fulfilled ? 'fulfilled' : 'failed'}`,
      );
    if (!d.fulfilled) {
      stats.failed++;
      continue;
    }
    stats.fulfilled++;
    expectA += key.startsWith('A:') ? -d.amountMsat : d.amountMsat;
    // The payer heard of the preimage (at least once: a restart may tell it again).
    const payer = offerer === 'A' ? a : b;
    check(
      payer.events.some((e) => e.type === 'htlc-fulfilled' && e.id === BigInt(id as string)),
      `${where}: ${payer.name} never heard its HTLC ${id} was fulfilled`,
    );
  }
  const ba = a.balances();
  const bb = b.balances();
  check(
    ba.toLocalMsat === expectA && ba.toRemoteMsat === FUNDING_MSAT - expectA,
    `${where}: A has ${ba.toLocalMsat} msat, ${expectA} were due`,
  );
  check(
    bb.toLocalMsat === FUNDING_MSAT - expectA && bb.toRemoteMsat === expectA,
    `${where}: B has ${bb.toLocalMsat} msat, ${FUNDING_MSAT - expectA} were due`,
  );
  for (const x of nodes) checkConserved(x, where);
  checkAgreement(a, b, where);
  // The monitors end where the cores are.
  for (const x of nodes) {
    check(
      x.view.holderCommitmentNumber === x.state.commitments.holder.number &&
        x.view.counterpartyCommitments.at(-1)?.commitmentNumber === x.state.commitments.counterparty.number,
      `${where}: ${x.name}'s monitor is not at its commitments`,
    );
  }
  return stats;
}

const big = (_k: string, v: unknown) => (typeof v === 'bigint' ? v.toString() : v);
