/**
 * One channel as an in-thread actor (spawnLocal, inside the ChannelManager's thread or inside a
 * channel host thread beside it: channel-host.actor.ts): its mailbox hands the core one input
 * at a time, and this shell performs each step's effects in the order the core gave them.
 * Answers that the core asked for — a signature, a funding transaction, a persist's status — go
 * back in as the next inputs before the mailbox takes another, so nothing else reaches the
 * channel in the middle of a transition. Everything the shell does goes through
 * `ChannelServices`, which the manager builds for each channel.
 */
import type { ChannelSigner } from '@lnkit/keys';
import type { ChannelMonitorUpdate, OutPointData } from '@lnkit/monitor';
import { defineActor, type Logger } from '@lnkit/runtime';
import { PersistStatus } from '@lnkit/store';
import type { Message } from '@lnkit/wire';
import { channelAnnouncementDigest } from './announcement.ts';
import { type ChannelContext, step } from './channel.ts';
import type { ChannelEffect, ChannelEvent, ChannelInput, ChannelState } from './channel-state.ts';
import type { Refusal } from './checks.ts';
import type { HtlcEvent } from './htlc/index.ts';

export interface ChannelServices {
  send(message: Message): Promise<void>;
  signer: ChannelSigner;
  persist(update: ChannelMonitorUpdate): Promise<PersistStatus>;
  /**
   * The step's writes (its events, its snapshot) and `persist` go to one store that commits
   * writes in the order they were issued (lmdb's write queue): a monitor update issued after
   * them is never durable before them, so the persist need not wait for their commit and all
   * of a step's writes share one. Otherwise (a monitor persister of the user's, elsewhere)
   * they are made durable first, one commit, then the persist, another.
   */
  writesInIssueOrder?: boolean;
  /** The funding transaction's bytes, or why the wallet could not build it. */
  requestFunding(request: {
    outputScript: Uint8Array;
    amountSat: bigint;
    feerateSatPerKw: number;
  }): Promise<{ ok: true; tx: Uint8Array } | { ok: false; message: string }>;
  releaseFunding(): Promise<void>;
  /** Hands the transaction to the broadcaster; a closing transaction is then watched for in blocks. */
  broadcast(tx: Uint8Array, what: 'funding' | 'closing' | 'commitment'): Promise<void>;
  watchFunding(outpoint: OutPointData, scriptPubKey: Uint8Array): void;
  emit(event: ChannelEvent): void;
  /** Makes an event durable; issued before the snapshot of the step that raised it. */
  record?(event: ChannelEvent): Promise<void>;
  /** What the payment layer hears of the channel's HTLCs (normal operation). */
  htlcEvent?(event: HtlcEvent): void;
  /** The node key's signature of a digest (BOLT 7 node_signature); a public channel needs it. */
  signWithNodeKey?(digest: Uint8Array): Promise<Uint8Array>;
  /** A private channel's channel_update, signed now, to the peer (send-channel-update). */
  sendChannelUpdate?(): Promise<void>;
  /** A public channel's whole channel_announcement (both sides signed), for gossip. */
  announce?(shortChannelId: bigint, channelAnnouncement: Uint8Array): void;
  /** A command refused by the core (nothing happened): the caller's to hear. */
  commandRefused?(command: string, refusal: Refusal): void;
  /**
   * Called after every step, with the new state, before its effects are performed (the manager
   * re-indexes its directory and writes the channel's snapshot: durable before any effect that
   * leaves the channel, so the snapshot is never behind a monitor update or a message that
   * followed from the step).
   */
  changed(state: ChannelState): void | Promise<void>;
  logger: Logger;
}

/** BOLT 2 updates: nothing a commitment of either side holds until a commitment_signed signs it. */
const UNSIGNED_UPDATES = new Set<string>([
  'update_add_htlc',
  'update_fulfill_htlc',
  'update_fail_htlc',
  'update_fail_malformed_htlc',
  'update_fee',
]);

export interface ChannelActorConfig {
  state: ChannelState;
  ctx: ChannelContext;
  services: ChannelServices;
  /** The effects of the step that created the channel (open_channel / accept_channel to send). */
  initialEffects: ChannelEffect[];
}

export const channelActor = defineActor({
  name: 'channel',
  create(_ctx, config: ChannelActorConfig) {
    let state = config.state;
    const { services, ctx } = config;
    const log = services.logger;

    /** Performs one effect; returns the input that answers it, if it asks for one. */
    async function perform(e: ChannelEffect): Promise<ChannelInput | undefined> {
      switch (e.kind) {
        case 'send':
          // An update the peer has no commitment for is forgotten by both sides at reconnection
          // if nothing signs it (BOLT 2), so it may leave before the step's snapshot is durable;
          // what signs it (commitment_signed) follows a monitor update, which waits for it.
          if (!(services.writesInIssueOrder && UNSIGNED_UPDATES.has(e.message.kind))) await settle();
          // A peer that went away meanwhile will be given what it missed at reestablish.
          await services
            .send(e.message)
            .catch((err: unknown) => log.info({ err, message: e.message.kind }, 'send failed'));
          return undefined;
        case 'sign-counterparty-commitment': {
          const sigs = await services.signer.signCounterpartyCommitment({
            commitmentNumber: e.commitmentNumber,
            perCommitmentPoint: e.perCommitmentPoint,
            commitmentSighash: e.sighash,
            htlcSighashes: e.htlcSighashes ?? [],
          });
          // Normal operation's requests carry HTLC sighashes, and the answer its number.
          if (e.htlcSighashes)
            return {
              kind: 'counterparty-commitment-signed',
              signature: sigs.signature,
              commitmentNumber: e.commitmentNumber,
              htlcSignatures: sigs.htlcSignatures,
            };
          return { kind: 'counterparty-commitment-signed', signature: sigs.signature };
        }
        case 'release-commitment-secret': {
          const secret = await services.signer.releaseCommitmentSecret(e.commitmentNumber);
          const nextPerCommitmentPoint = await services.signer.getPerCommitmentPoint(e.nextPointNumber);
          return {
            kind: 'commitment-secret-released',
            commitmentNumber: e.commitmentNumber,
            secret,
            nextPerCommitmentPoint,
          };
        }
        case 'htlc-event':
          await settle();
          services.htlcEvent?.(e.event);
          return undefined;
        case 'command-refused':
          await settle();
          services.commandRefused?.(e.command, e.refusal);
          return undefined;
        case 'holder-commitment-validated':
          await services.signer.validateHolderCommitment(e.commitmentNumber);
          return undefined;
        case 'request-funding': {
          await settle();
          const r = await services.requestFunding(e);
          return r.ok ? { kind: 'funding-built', tx: r.tx } : { kind: 'funding-failed', message: r.message };
        }
        case 'release-funding':
          await settle();
          await services.releaseFunding();
          return undefined;
        case 'persist-monitor': {
          // Issued after the step's writes; whether it may commit with them, see writesInIssueOrder.
          if (!services.writesInIssueOrder) await settle();
          const persisted = Promise.resolve()
            .then(() => services.persist(e.update))
            .catch((err: unknown) => PersistStatus.failed(err instanceof Error ? err.message : String(err)));
          await settle();
          return { kind: 'persisted', updateId: e.update.updateId, status: await persisted };
        }
        case 'broadcast':
          await settle();
          await services.broadcast(e.tx, e.what);
          return undefined;
        case 'sign-holder-commitment': {
          const sigs = await services.signer.signHolderCommitment({
            commitmentNumber: e.commitmentNumber,
            commitmentSighash: e.sighash,
            htlcSighashes: [],
          });
          return { kind: 'holder-commitment-signed', signature: sigs.signature };
        }
        case 'sign-closing':
          return {
            kind: 'closing-signature',
            signature: await services.signer.signClosingTransaction(e.sighash),
          };
        case 'sign-announcement': {
          const signWithNodeKey = services.signWithNodeKey;
          if (!signWithNodeKey)
            throw new Error('a public channel needs the node key to sign its announcement');
          const [nodeSignature, bitcoinSignature] = await Promise.all([
            signWithNodeKey(channelAnnouncementDigest(e.unsigned)),
            services.signer.signChannelAnnouncement(e.unsigned),
          ]);
          return {
            kind: 'announcement-signed',
            shortChannelId: e.shortChannelId,
            nodeSignature,
            bitcoinSignature,
          };
        }
        case 'send-channel-update':
          await settle();
          await services.sendChannelUpdate?.();
          return undefined;
        case 'announce':
          await settle();
          services.announce?.(e.shortChannelId, e.channelAnnouncement);
          return undefined;
        case 'watch-funding':
          services.watchFunding(e.outpoint, e.scriptPubKey);
          return undefined;
        case 'event':
          await settle();
          services.emit(e.event);
          return undefined;
        case 'log':
          log[e.level]({ refusal: e.refusal }, e.message);
          return undefined;
      }
    }

    /**
     * The writes of the steps so far that nothing has waited for yet. A step issues its writes
     * (events, then its snapshot) and goes on; the first effect that leaves the channel — a
     * message, a monitor update, anything the node or the user hears — waits for them. Steps
     * that only ask the signer (most of a commitment dance) thus add no commit of their own.
     */
    const unsettled = new Set<Promise<unknown>>();
    function issued(write: Promise<unknown>): void {
      unsettled.add(write);
      // Kept only until durable: a channel that sends nothing for a long time holds none.
      void write.finally(() => unsettled.delete(write)).catch(() => {});
    }
    async function settle(): Promise<void> {
      while (unsettled.size > 0) await Promise.all([...unsettled]);
    }

    async function run(effects: ChannelEffect[]): Promise<void> {
      const answers: ChannelInput[] = [];
      for (const e of effects) {
        const answer = await perform(e);
        if (answer) answers.push(answer);
      }
      for (const a of answers) await apply(a);
    }

    /**
     * Issues the step's events, then its snapshot: a crash repeats, never loses, an event (the
     * store commits them in this order, or the events are made durable first). Neither write
     * rejects: the manager logs a failed one.
     */
    async function write(effects: ChannelEffect[], changed: ChannelState | undefined): Promise<void> {
      if (services.record) for (const e of effects) if (e.kind === 'event') issued(services.record(e.event));
      if (!services.writesInIssueOrder) await settle();
      if (changed) issued(Promise.resolve(services.changed(changed)));
    }

    async function apply(input: ChannelInput): Promise<void> {
      const next = step(state, input, ctx);
      state = next.state;
      await write(next.effects, state);
      await run(next.effects);
    }

    return {
      /** Sends what the creating step produced (open_channel or accept_channel). */
      start: async () => {
        await write(config.initialEffects, undefined);
        await run(config.initialEffects);
        await settle();
      },
      handle: async (input: ChannelInput): Promise<ChannelState> => {
        try {
          await apply(input);
          // In issue order, what this step wrote and nothing waited for commits with the next
          // step's writes (flush() waits for it); otherwise it is durable when handle resolves.
          if (!services.writesInIssueOrder) await settle();
        } catch (err) {
          // A failure of the signer or of this shell, not of the peer: the channel stops here.
          log.error({ err, input: input.kind }, 'channel failed on an internal error');
          const failed = step(state, { kind: 'internal-error', message: (err as Error).message }, ctx);
          state = failed.state;
          await write(failed.effects, state).catch(() => {});
          await run(failed.effects).catch(() => {});
          await settle().catch(() => {});
        }
        return state;
      },
      state: (): ChannelState => state,
      /** Resolves once every write the channel issued is durable (the manager's stop). */
      flush: (): Promise<void> => settle(),
    };
  },
});
