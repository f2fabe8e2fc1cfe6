/**
 * Two channel cores talking to each other in memory, for the core's unit tests: each side has
 * a real KeysManager signer, a pretend wallet, a persister whose answer the test chooses, and
 * a pretend chain the test mines and reorgs. Every message crosses through @lnkit/wire's
 * encoder and decoder, so what one core sends is what the other reads off the wire.
 */
import { randomBytes, sha256d } from '@lnkit/crypto';
import { type DefaultChannelSigner, KeysManager } from '@lnkit/keys';
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import { PersistStatus } from '@lnkit/store';
import { buildFundingTransaction, p2wpkh } from '@lnkit/tx';
import { decodeMessage, encodeMessage, type Message, type OpenChannel } from '@lnkit/wire';
import { type ChannelContext, step } from './channel.ts';
import type {
  ChannelEffect,
  ChannelEvent,
  ChannelInput,
  ChannelMessage,
  ChannelState,
  LocalChannelKeys,
  Step,
} from './channel-state.ts';
import type { NegotiatedChannelType } from './channel-type.ts';
import type { PeerFeatures } from './checks.ts';
import { type ChannelConfig, channelConfig } from './config.ts';
import { acceptChannel, openChannel } from './establish.ts';

export const CHAIN_HASH = new Uint8Array(32).fill(6);
export const ALL_FEATURES: PeerFeatures = {
  largeChannel: true,
  anchors: true,
  dualFund: false,
  upfrontShutdownScript: false,
  scidAlias: true,
  anySegwit: true,
  simpleClose: false,
};
export const FEERATES = { minPerKw: 253, maxPerKw: 100_000 };

export type PersistAnswer = 'completed' | 'in-progress' | 'failed';

export class Side {
  readonly keysManager = new KeysManager(randomBytes(32));
  readonly signer: DefaultChannelSigner;
  state: ChannelState | undefined;
  /** Every effect, in the order the core emitted it. */
  readonly effects: ChannelEffect[] = [];
  /** The phase after each input. */
  readonly phases: string[] = [];
  readonly events: ChannelEvent[] = [];
  readonly persisted: ChannelMonitorUpdate[] = [];
  readonly broadcasts: Uint8Array[] = [];
  readonly sent: Message[] = [];
  /** Whole channel_announcements the core handed out (`announce` effects). */
  readonly announcements: Uint8Array[] = [];
  /** `send-channel-update` effects (a private channel's policy to the peer). */
  privateUpdates = 0;
  persistAnswer: PersistAnswer = 'completed';
  /** Answer request-funding with a transaction (default), or fail. */
  fundingAnswer: 'build' | 'fail' | ((script: Uint8Array, amountSat: bigint) => Uint8Array) = 'build';
  releases = 0;
  watching = false;
  other!: Side;
  readonly inbox: Message[] = [];
  ctx: ChannelContext;
  /** Messages sent while false are lost, as on a dropped connection. */
  connected = true;
  /** Read closing_signed as a peer that knows no fee_range would (the TLV dropped). */
  stripFeeRange = false;

  constructor(
    readonly name: string,
    config: ChannelConfig = channelConfig(),
    readonly keyIndex = 0n,
  ) {
    this.signer = this.keysManager.createChannelSigner(keyIndex);
    this.ctx = {
      config,
      features: ALL_FEATURES,
      closeFeeratePerKw: 1000,
      localNodeId: this.keysManager.nodeId,
    };
  }

  get nodeId(): string {
    return Buffer.from(this.keysManager.nodeId).toString('hex');
  }

  async localKeys(): Promise<LocalChannelKeys> {
    return {
      channelKeyIndex: this.keyIndex,
      pubkeys: this.signer.pubkeys,
      perCommitmentPoints: [
        await this.signer.getPerCommitmentPoint(0n),
        await this.signer.getPerCommitmentPoint(1n),
      ],
    };
  }

  /** Feeds one input; performs the effects (answers to signer, wallet and persister come back as inputs). */
  async input(input: ChannelInput): Promise<void> {
    if (!this.state) throw new Error(`${this.name} has no channel`);
    await this.apply(step(this.state, input, this.ctx));
  }

  async apply(s: Step): Promise<void> {
    this.state = s.state;
    this.phases.push(s.state.phase);
    const answers: ChannelInput[] = [];
    for (const e of s.effects) {
      this.effects.push(e);
      switch (e.kind) {
        case 'send': {
          this.sent.push(e.message);
          const decoded = decodeMessage(encodeMessage(e.message));
          if (decoded.kind === 'unknown') throw new Error('unknown message');
          if (this.connected) this.other.inbox.push(decoded);
          break;
        }
        case 'sign-counterparty-commitment': {
          const sigs = await this.signer.signCounterpartyCommitment({
            commitmentNumber: e.commitmentNumber,
            perCommitmentPoint: e.perCommitmentPoint,
            commitmentSighash: e.sighash,
            htlcSighashes: [],
          });
          answers.push({ kind: 'counterparty-commitment-signed', signature: sigs.signature });
          break;
        }
        case 'sign-closing':
          answers.push({
            kind: 'closing-signature',
            signature: await this.signer.signClosingTransaction(e.sighash),
          });
          break;
        case 'sign-holder-commitment': {
          const sigs = await this.signer.signHolderCommitment({
            commitmentNumber: e.commitmentNumber,
            commitmentSighash: e.sighash,
            htlcSighashes: [],
          });
          answers.push({ kind: 'holder-commitment-signed', signature: sigs.signature });
          break;
        }
        case 'holder-commitment-validated':
          await this.signer.validateHolderCommitment(e.commitmentNumber);
          break;
        case 'request-funding':
          answers.push(
            this.fundingAnswer === 'fail'
              ? { kind: 'funding-failed', message: 'not enough money' }
              : {
                  kind: 'funding-built',
                  tx: (this.fundingAnswer === 'build' ? fakeFundingTx : this.fundingAnswer)(
                    e.outputScript,
                    e.amountSat,
                  ),
                },
          );
          break;
        case 'release-funding':
          this.releases++;
          break;
        case 'persist-monitor': {
          this.persisted.push(e.update);
          const status =
            this.persistAnswer === 'completed'
              ? PersistStatus.completed()
              : this.persistAnswer === 'in-progress'
                ? PersistStatus.inProgress()
                : PersistStatus.failed('disk full');
          answers.push({ kind: 'persisted', updateId: e.update.updateId, status });
          break;
        }
        case 'broadcast':
          this.broadcasts.push(e.tx);
          break;
        case 'watch-funding':
          this.watching = true;
          break;
        case 'sign-announcement':
          answers.push({
            kind: 'announcement-signed',
            shortChannelId: e.shortChannelId,
            nodeSignature: await this.keysManager.signWithNodeKey(sha256d(e.unsigned.subarray(2 + 256))),
            bitcoinSignature: await this.signer.signChannelAnnouncement(e.unsigned),
          });
          break;
        case 'announce':
          this.announcements.push(e.channelAnnouncement);
          break;
        case 'send-channel-update':
          this.privateUpdates++;
          break;
        case 'event':
          this.events.push(e.event);
          break;
        case 'log':
          break;
      }
    }
    for (const a of answers) await this.input(a);
  }

  /** Completes an update whose persist answered in-progress (the persister's later report). */
  complete(updateId: bigint): Promise<void> {
    return this.input({ kind: 'persisted', updateId, status: PersistStatus.completed() });
  }

  effectIndex(match: (e: ChannelEffect) => boolean): number {
    return this.effects.findIndex(match);
  }

  sentKinds(): string[] {
    return this.sent.map((m) => m.kind);
  }
}

/** Both sides lose the connection (each hears of it), then find each other again. */
export async function disconnect(a: Side, b: Side): Promise<void> {
  a.connected = b.connected = false;
  a.inbox.length = 0;
  b.inbox.length = 0;
  await a.input({ kind: 'peer-disconnected' });
  await b.input({ kind: 'peer-disconnected' });
}

export async function reconnect(a: Side, b: Side): Promise<void> {
  a.connected = b.connected = true;
  await a.input({ kind: 'peer-connected' });
  await b.input({ kind: 'peer-connected' });
}

/** A funding transaction paying `script`: one made-up segwit input, as a wallet's would be. */
export function fakeFundingTx(script: Uint8Array, amountSat: bigint): Uint8Array {
  const change = p2wpkh(new KeysManager(randomBytes(32)).walletPublicKey(0n));
  const built = buildFundingTransaction({
    inputs: [{ txid: randomBytes(32), vout: 0 }],
    fundingSat: amountSat,
    localFundingPubkey: new Uint8Array(33).fill(2),
    remoteFundingPubkey: new Uint8Array(33).fill(3),
    change: { scriptPubKey: change, valueSat: 50_000n },
  });
  const tx = built.tx;
  // Replace the placeholder 2-of-2 with the channel's own output script.
  const out = tx.outs[built.fundingOutputIndex];
  if (out) out.script = Buffer.from(script);
  tx.setWitness(0, [new Uint8Array(71).fill(1), new Uint8Array(33).fill(2)]);
  return new Uint8Array(tx.toBuffer());
}

export interface PairOptions {
  fundingSat?: bigint;
  pushMsat?: bigint;
  type?: NegotiatedChannelType;
  funderConfig?: ChannelConfig;
  fundeeConfig?: ChannelConfig;
  feeratePerKw?: number;
  height?: number;
  /** open_channel's announce_channel bit (a public channel). */
  announce?: boolean;
}

/** A funder and a fundee, linked; the funder's open_channel is in the fundee's inbox. */
export async function pair(o: PairOptions = {}): Promise<{ funder: Side; fundee: Side; open: OpenChannel }> {
  const funder = new Side('funder', o.funderConfig);
  const fundee = new Side('fundee', o.fundeeConfig, 7n);
  funder.other = fundee;
  fundee.other = funder;
  await funder.apply(
    openChannel({
      counterpartyNodeId: fundee.nodeId,
      chainHash: CHAIN_HASH,
      keys: await funder.localKeys(),
      config: funder.ctx.config,
      features: ALL_FEATURES,
      currentHeight: o.height ?? 500,
      localAlias: 0xf42400_000001n,
      temporaryChannelId: randomBytes(32),
      fundingSat: o.fundingSat ?? 1_000_000n,
      pushMsat: o.pushMsat ?? 0n,
      channelType: o.type ?? { type: 'static_remotekey', scidAlias: false },
      announce: o.announce ?? false,
      commitmentFeeratePerKw: o.feeratePerKw ?? 2500,
      fundingFeeratePerKw: 1000,
    }),
  );
  const open = fundee.inbox[0] as OpenChannel;
  return { funder, fundee, open };
}

/** The fundee's answer to the open_channel in its inbox. */
export async function accept(fundee: Side, height = 500): Promise<ReturnType<typeof acceptChannel>> {
  const open = fundee.inbox.shift() as OpenChannel;
  const r = acceptChannel(open, {
    counterpartyNodeId: fundee.other.nodeId,
    chainHash: CHAIN_HASH,
    keys: await fundee.localKeys(),
    config: fundee.ctx.config,
    features: ALL_FEATURES,
    currentHeight: height,
    localAlias: 0xf42400_000002n,
    feerate: FEERATES,
  });
  if (r.ok) await fundee.apply(r.step);
  else for (const e of r.effects) if (e.kind === 'send') fundee.sent.push(e.message);
  return r;
}

/** Delivers queued messages both ways until neither side has any. */
export async function pump(a: Side, b: Side): Promise<void> {
  while (a.inbox.length > 0 || b.inbox.length > 0) {
    for (const side of [a, b]) {
      let m = side.inbox.shift();
      if (m?.kind === 'closing_signed' && side.stripFeeRange) m = { ...m, feeRange: undefined };
      if (m && side.state) await side.input({ kind: 'message', message: m as ChannelMessage });
    }
  }
}

/** A pretend chain: the funder's broadcast funding goes into the next block mined, unless held back. */
export class Chain {
  height: number;
  fundingAt: number | undefined;
  holdFunding = false;

  constructor(
    readonly sides: Side[],
    height = 500,
  ) {
    this.height = height;
  }

  private fundingBlock(height: number, side: Side) {
    const st = side.state;
    if (this.fundingAt !== height || !st?.funding) return undefined;
    return { txIndex: 1, valueSat: st.fundingSat, scriptPubKey: st.funding.scriptPubKey };
  }

  async mine(n = 1): Promise<void> {
    for (let i = 0; i < n; i++) {
      this.height++;
      const broadcast = this.sides.some((s) => s.broadcasts.length > 0);
      if (broadcast && this.fundingAt === undefined && !this.holdFunding) this.fundingAt = this.height;
      for (const s of this.sides)
        if (s.state)
          await s.input({
            kind: 'block-connected',
            height: this.height,
            funding: this.fundingBlock(this.height, s),
          });
    }
  }

  /** Disconnects the top `depth` blocks; the funding, if in them, goes back to the mempool. */
  async disconnect(depth: number): Promise<void> {
    for (let i = 0; i < depth; i++) {
      for (const s of this.sides)
        if (s.state) await s.input({ kind: 'block-disconnected', height: this.height });
      if (this.fundingAt === this.height) this.fundingAt = undefined;
      this.height--;
    }
  }
}

/** Funder and fundee from open_channel to `ready` (minimum_depth blocks mined). */
export async function openToReady(
  o: PairOptions = {},
): Promise<{ funder: Side; fundee: Side; chain: Chain }> {
  const { funder, fundee } = await pair(o);
  const r = await accept(fundee, o.height);
  if (!r.ok) throw new Error(`refused: ${r.refusal.reason}`);
  await pump(funder, fundee);
  const chain = new Chain([funder, fundee], o.height ?? 500);
  await chain.mine(fundee.ctx.config.minimumDepth);
  await pump(funder, fundee);
  return { funder, fundee, chain };
}
