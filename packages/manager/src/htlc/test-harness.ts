/**
 * Two normal-operation cores talking in memory, for the unit tests: each has a real
 * KeysManager signer, a persister whose answers the test holds or lets through, and every
 * message crosses @lnkit/wire's encoder and decoder. A log of what each side asked for and
 * did (persists, their completion, sends) lets a test check the durability rule.
 */
import { randomBytes, sha256 } from '@lnkit/crypto';
import { type DefaultChannelSigner, KeysManager } from '@lnkit/keys';
import type { ChannelMonitorUpdate, ChannelSideParams } from '@lnkit/monitor';
import { PersistStatus } from '@lnkit/store';
import { type ChannelType, obscuringFactor } from '@lnkit/tx';
import { decodeMessage, encodeMessage, type Message, ONION_PACKET_LENGTH } from '@lnkit/wire';
import { balancesOf } from './ledger.ts';
import { normalStep, startNormal } from './normal.ts';
import type {
  HtlcEvent,
  NormalContext,
  NormalEffect,
  NormalFailure,
  NormalInput,
  NormalMessage,
  NormalState,
  NormalStep,
} from './normal-state.ts';
import { reestablishMessage } from './retransmit.ts';

export const CTX: NormalContext = { feeBounds: { minPerKw: 253, maxPerKw: 100_000 } };

export class HtlcNode {
  /** Replaced when the simulation restarts the node (sim.ts). */
  signer: DefaultChannelSigner;
  state!: NormalState;
  other!: HtlcNode;
  readonly inbox: Message[] = [];
  /** Messages sent while false are lost, as on a dropped connection. */
  connected = true;
  readonly sent: Message[] = [];
  readonly persisted: ChannelMonitorUpdate[] = [];
  readonly events: HtlcEvent[] = [];
  readonly failures: NormalFailure[] = [];
  /** `persist:<id>`, `completed:<id>`, `send:<kind>` in the order they happened. */
  readonly log: string[] = [];
  /** Hold persists (answer in-progress) until `complete(id)`. */
  holdPersists = false;
  readonly held: bigint[] = [];
  /** A persister that completes updates in order: one after a held one is held too. */
  persistInOrder = false;
  ctx: NormalContext = CTX;

  constructor(
    readonly name: string,
    signer?: DefaultChannelSigner,
  ) {
    this.signer = signer ?? new KeysManager(randomBytes(32)).createChannelSigner(0n);
  }

  async input(input: NormalInput): Promise<NormalStep> {
    const step = normalStep(this.state, input, this.ctx);
    if (step.failure) this.failures.push(step.failure);
    await this.perform(step);
    return step;
  }

  async deliver(message: Message): Promise<NormalStep> {
    if (message.kind === 'channel_reestablish') return this.input({ kind: 'channel-reestablish', message });
    return this.input({ kind: 'message', message: message as NormalMessage });
  }

  /** The step's new state, before any of its effects (where the manager writes its snapshot). */
  protected stepped(_state: NormalState): void {}
  /** Before each effect is performed (the simulation checks it, or crashes the node there). */
  protected beforeEffect(_e: NormalEffect): void {}
  /** A monitor update is durable now. */
  protected durable(_update: ChannelMonitorUpdate): void {}

  async perform(step: NormalStep): Promise<void> {
    this.state = step.state;
    this.stepped(step.state);
    const answers: NormalInput[] = [];
    for (const e of step.effects) {
      this.beforeEffect(e);
      switch (e.kind) {
        case 'send': {
          this.log.push(`send:${e.message.kind}`);
          this.sent.push(e.message);
          const decoded = decodeMessage(encodeMessage(e.message));
          if (decoded.kind === 'unknown') throw new Error('unknown message');
          if (this.connected) this.other.inbox.push(decoded);
          break;
        }
        case 'persist-monitor':
          this.log.push(`persist:${e.update.updateId}`);
          this.persisted.push(e.update);
          if (this.holdPersists || (this.persistInOrder && this.held.length > 0)) {
            this.held.push(e.update.updateId);
            answers.push({
              kind: 'persisted',
              updateId: e.update.updateId,
              status: PersistStatus.inProgress(),
            });
          } else {
            this.durable(e.update);
            this.log.push(`completed:${e.update.updateId}`);
            answers.push({
              kind: 'persisted',
              updateId: e.update.updateId,
              status: PersistStatus.completed(),
            });
          }
          break;
        case 'sign-counterparty-commitment': {
          const sigs = await this.signer.signCounterpartyCommitment({
            commitmentNumber: e.commitmentNumber,
            perCommitmentPoint: e.perCommitmentPoint,
            commitmentSighash: e.sighash,
            htlcSighashes: e.htlcSighashes,
          });
          answers.push({
            kind: 'counterparty-commitment-signed',
            commitmentNumber: e.commitmentNumber,
            ...sigs,
          });
          break;
        }
        case 'holder-commitment-validated':
          await this.signer.validateHolderCommitment(e.commitmentNumber);
          break;
        case 'release-commitment-secret':
          answers.push({
            kind: 'commitment-secret-released',
            commitmentNumber: e.commitmentNumber,
            secret: await this.signer.releaseCommitmentSecret(e.commitmentNumber),
            nextPerCommitmentPoint: await this.signer.getPerCommitmentPoint(e.nextPointNumber),
          });
          break;
        case 'event':
          this.events.push(e.event);
          break;
      }
    }
    for (const a of answers) await this.input(a);
  }

  /** Completes held persists (all, or those given), in order. */
  async complete(ids: readonly bigint[] = [...this.held]): Promise<void> {
    for (const id of ids) {
      this.held.splice(this.held.indexOf(id), 1);
      const update = [...this.persisted].reverse().find((u) => u.updateId === id);
      if (update) this.durable(update);
      this.log.push(`completed:${id}`);
      await this.input({ kind: 'persisted', updateId: id, status: PersistStatus.completed() });
    }
  }

  /** Our balance and theirs in our current commitment. */
  balances(): { toLocalMsat: bigint; toRemoteMsat: bigint } {
    return balancesOf(this.state.ledger, 'local');
  }

  kindsSent(): string[] {
    return this.sent.map((m) => m.kind);
  }

  async add(amountMsat: bigint, preimage: Uint8Array, cltvExpiry = 600_000): Promise<NormalStep> {
    return this.input({
      kind: 'add-htlc',
      amountMsat,
      paymentHash: sha256(preimage),
      cltvExpiry,
      onionRoutingPacket: new Uint8Array(ONION_PACKET_LENGTH).fill(7),
    });
  }
}

/** Delivers queued messages both ways until neither side has any. */
export async function pump(a: HtlcNode, b: HtlcNode): Promise<void> {
  while (a.inbox.length > 0 || b.inbox.length > 0) {
    for (const side of [a, b]) {
      const m = side.inbox.shift();
      if (m) await side.deliver(m);
    }
  }
}

/** Delivers only the next message waiting at `to`. */
export async function deliverOne(to: HtlcNode): Promise<Message> {
  const m = to.inbox.shift();
  if (!m) throw new Error(`${to.name} has nothing to receive`);
  await to.deliver(m);
  return m;
}

/** Both lose the connection; what was in flight is lost. */
export async function disconnect(a: HtlcNode, b: HtlcNode): Promise<void> {
  a.connected = b.connected = false;
  a.inbox.length = 0;
  b.inbox.length = 0;
  await a.input({ kind: 'peer-disconnected' });
  await b.input({ kind: 'peer-disconnected' });
}

/** Both reconnect and exchange channel_reestablish (delivered by the next pump). */
export async function reconnect(a: HtlcNode, b: HtlcNode): Promise<void> {
  a.connected = b.connected = true;
  for (const n of [a, b]) {
    await n.input({ kind: 'peer-reconnected' });
    const ours = reestablishMessage(n.state);
    n.sent.push(ours);
    const decoded = decodeMessage(encodeMessage(ours));
    if (decoded.kind === 'unknown') throw new Error('unknown message');
    n.other.inbox.push(decoded);
  }
}

export interface PairOptions {
  fundingSat?: bigint;
  pushMsat?: bigint;
  feeratePerKw?: number;
  channelType?: ChannelType;
  /** Overrides of what A (funder) and B (fundee) ask of the other side. */
  a?: Partial<ChannelSideParams>;
  b?: Partial<ChannelSideParams>;
}

function sideParams(n: HtlcNode, o: Partial<ChannelSideParams> | undefined): ChannelSideParams {
  const k = n.signer.pubkeys;
  return {
    dustLimitSat: 546n,
    maxHtlcValueInFlightMsat: 1_000_000_000n,
    channelReserveSat: 10_000n,
    htlcMinimumMsat: 1n,
    toSelfDelay: 144,
    maxAcceptedHtlcs: 30,
    fundingPubkey: k.fundingPubkey,
    revocationBasepoint: k.revocationBasepoint,
    paymentBasepoint: k.paymentBasepoint,
    delayedPaymentBasepoint: k.delayedPaymentBasepoint,
    htlcBasepoint: k.htlcBasepoint,
    ...o,
  };
}

/** A (the funder) and B with a channel ready for HTLCs, both at commitment 0. */
export async function htlcPair<N extends HtlcNode = HtlcNode>(
  o: PairOptions = {},
  make: (name: string) => N = (name) => new HtlcNode(name) as N,
): Promise<{ a: N; b: N }> {
  const a = make('A');
  const b = make('B');
  a.other = b;
  b.other = a;
  const fundingSat = o.fundingSat ?? 1_000_000n;
  const pushMsat = o.pushMsat ?? 300_000_000n;
  const pa = sideParams(a, o.a);
  const pb = sideParams(b, o.b);
  const common = {
    channelId: randomBytes(32),
    channelType: o.channelType ?? 'static_remotekey',
    fundingSat,
    fundingOutpoint: { txid: randomBytes(32), vout: 1 },
    obscuringFactor: obscuringFactor(pa.paymentBasepoint, pb.paymentBasepoint),
  } as const;
  const points = async (n: HtlcNode) =>
    [await n.signer.getPerCommitmentPoint(0n), await n.signer.getPerCommitmentPoint(1n)] as const;
  const [a0, a1] = await points(a);
  const [b0, b1] = await points(b);
  const feeratePerKw = o.feeratePerKw ?? 2500;
  const funderMsat = fundingSat * 1000n - pushMsat;
  a.state = startNormal({
    params: { ...common, isFunder: true, local: pa, remote: pb },
    feeratePerKw,
    toLocalMsat: funderMsat,
    toRemoteMsat: pushMsat,
    holderNumber: 0n,
    holderPoint: a0,
    holderNextPoint: a1,
    counterpartyNumber: 0n,
    counterpartyPoint: b0,
    counterpartyNextPoint: b1,
    nextMonitorUpdateId: 2n,
  });
  b.state = startNormal({
    params: { ...common, isFunder: false, local: pb, remote: pa },
    feeratePerKw,
    toLocalMsat: pushMsat,
    toRemoteMsat: funderMsat,
    holderNumber: 0n,
    holderPoint: b0,
    holderNextPoint: b1,
    counterpartyNumber: 0n,
    counterpartyPoint: a0,
    counterpartyNextPoint: a1,
    nextMonitorUpdateId: 2n,
  });
  // The first commitments were validated during establishment.
  await a.signer.validateHolderCommitment(0n);
  await b.signer.validateHolderCommitment(0n);
  return { a, b };
}

export const preimageOf = (n: number): Uint8Array => new Uint8Array(32).fill(n);
