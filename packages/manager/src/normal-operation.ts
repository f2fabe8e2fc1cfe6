/**
 * BOLT 2 normal operation inside the channel machine: routes the HTLC messages, the commands
 * and the signer's and persister's answers of a `ready` (or `shutdown`) channel to
 * htlc/normal.ts, maps its effects and failures to the channel's, and keeps
 * `ChannelState.commitments` in step with the ledger (numbers, balances, the latest
 * commitment data) so that closing, force close, the summary and the snapshot read the
 * channel as it is now.
 */
import type { ChannelMonitorUpdate } from '@lnkit/monitor';
import type { ChannelReestablish } from '@lnkit/wire';
import { failChannel, refuseChannel } from './channel-effects.ts';
import type {
  ChannelEffect,
  ChannelInput,
  ChannelMessage,
  ChannelState,
  Commitments,
  Step,
} from './channel-state.ts';
import { startNegotiation } from './closing.ts';
import { FEERATE_FLOOR_PER_KW } from './fee-estimator.ts';
import { normalFromChannel } from './htlc/from-channel.ts';
import {
  balancesOf,
  type FeeBounds,
  feerateOf,
  type NormalContext,
  type NormalEffect,
  type NormalFailure,
  type NormalInput,
  type NormalMessage,
  type NormalState,
  normalStep,
  reestablishMessage,
  settledForClose,
} from './htlc/index.ts';

const NORMAL_MESSAGES = new Set<string>([
  'update_add_htlc',
  'update_fulfill_htlc',
  'update_fail_htlc',
  'commitment_signed',
  'revoke_and_ack',
  'update_fee',
  'update_fail_malformed_htlc',
]);
const COMMANDS = new Set<string>([
  'add-htlc',
  'fulfill-htlc',
  'fail-htlc',
  'fail-malformed-htlc',
  'update-fee',
  'commit',
]);
/** BOLT 2: updates flow from both channel_ready until both shutdowns are settled. */
const NORMAL_PHASES = new Set(['ready', 'shutdown']);

/**
 * Without a fee estimator's bounds: the relay floor less a little (a 253 vs 250 sat/kW floor
 * once closed hundreds of channels), and no ceiling a real peer reaches.
 */
export const DEFAULT_NORMAL_CONTEXT: NormalContext = {
  feeBounds: { minPerKw: FEERATE_FLOOR_PER_KW - 3, maxPerKw: 1_000_000 },
};

/**
 * The peer's update_fee bounds from the node's commitment feerate bounds: the floor lowered by
 * a few sat/kW, since a peer rounding its floor to 250 where ours is 253 is no reason to close.
 */
export function tolerantFeeBounds(b: { minPerKw: number; maxPerKw: number }): FeeBounds {
  return { minPerKw: Math.min(b.minPerKw, FEERATE_FLOOR_PER_KW - 3), maxPerKw: b.maxPerKw };
}

export function isNormalMessage(m: ChannelMessage): m is Extract<ChannelMessage, NormalMessage> {
  return NORMAL_MESSAGES.has(m.kind);
}

/**
 * The step for `input` if it belongs to normal operation, else undefined (the channel machine
 * handles it as before).
 */
export function normalOperationStep(
  s: ChannelState,
  input: ChannelInput,
  ctx: NormalContext | undefined,
): Step | undefined {
  const live = NORMAL_PHASES.has(s.phase) && !s.forceClose;
  switch (input.kind) {
    case 'message': {
      const m = input.message;
      if (!isNormalMessage(m)) return undefined;
      if (!live)
        return failChannel(
          s,
          {
            kind: 'protocol-violation',
            field: m.kind,
            message: `${m.kind} is not expected in phase ${s.phase}`,
          },
          { errorText: `unexpected ${m.kind}` },
        );
      // BOLT 2: after a reconnect nothing but channel_reestablish comes first; and what arrives
      // while the channel counts the peer as gone is from a connection already closed.
      if (s.link !== 'connected')
        return {
          state: s,
          effects: [
            { kind: 'log', level: 'warn', message: `${m.kind} while the link is ${s.link}: ignored` },
          ],
        };
      return run(s, { kind: 'message', message: m }, ctx);
    }
    case 'counterparty-commitment-signed':
      if (input.commitmentNumber === undefined || !s.normal || !live) return undefined;
      return run(
        s,
        {
          kind: 'counterparty-commitment-signed',
          commitmentNumber: input.commitmentNumber,
          signature: input.signature,
          htlcSignatures: input.htlcSignatures ?? [],
        },
        ctx,
      );
    case 'commitment-secret-released':
      if (!s.normal || !live) return { state: s, effects: [] };
      return run(s, input, ctx);
    case 'persisted':
      if (!s.normal?.persisting.includes(input.updateId)) return undefined;
      return run(s, input, ctx);
    default:
      if (!COMMANDS.has(input.kind)) return undefined;
      if (!live)
        return {
          state: s,
          effects: [
            {
              kind: 'command-refused',
              command: input.kind,
              refusal: { field: 'phase', reason: `the channel is ${s.phase}, not ready for payments` },
            },
          ],
        };
      return run(s, input as NormalInput, ctx);
  }
}

/** The normal state of a ready channel, made at its first use (both channel_ready exchanged). */
export function normalOf(s: ChannelState): NormalState {
  const n = s.normal ?? normalFromChannel(s);
  // The close flags are the closing machine's (closing.ts); normal operation reads them.
  const shutdownSent = s.close?.shutdownSent ?? false;
  const shutdownReceived = s.close?.remoteScript !== undefined;
  return n.shutdownSent === shutdownSent && n.shutdownReceived === shutdownReceived
    ? n
    : { ...n, shutdownSent, shutdownReceived };
}

function run(s: ChannelState, input: NormalInput, ctx: NormalContext | undefined): Step {
  const before = normalOf(s);
  const r = normalStep(before, input, ctx ?? DEFAULT_NORMAL_CONTEXT);
  if (r.failure) return onFailure(withNormal(s, before, []), r.failure);
  const state = withNormal(s, r.state, r.effects);
  const effects = r.effects.map(channelEffect);
  // Both shutdowns were in while HTLCs were not settled: the negotiation starts once they are.
  if (state.phase === 'shutdown' && state.close?.remoteScript && settledForClose(r.state))
    return startNegotiation(state, effects);
  return { state, effects };
}

export function channelEffect(e: NormalEffect): ChannelEffect {
  switch (e.kind) {
    case 'event':
      return { kind: 'htlc-event', event: e.event };
    default:
      return e;
  }
}

/** BOLT 2's failures, as the channel machine fails a channel (htlc/README.md step 6). */
function onFailure(s: ChannelState, f: NormalFailure): Step {
  switch (f.kind) {
    case 'protocol':
      return refuseChannel(s, f.message, f.refusal);
    case 'behind':
      // We lost data: our commitment is revoked, so never broadcast it (BOLT 2 "MUST NOT broadcast").
      return failChannel(
        s,
        {
          kind: 'protocol-violation',
          field: f.refusal.field,
          message: `the peer has a newer state: this node lost data (${f.refusal.reason})`,
        },
        {
          errorText: 'we are behind: please fail the channel and broadcast your commitment',
          broadcast: false,
        },
      );
    case 'refused':
      return {
        state: s,
        effects: [
          {
            kind: 'log',
            level: 'info',
            message: `${f.command} refused: ${f.refusal.reason}`,
            refusal: f.refusal,
          },
          { kind: 'command-refused', command: f.command, refusal: f.refusal },
        ],
      };
    case 'persist-failed':
      return failChannel(
        s,
        { kind: 'persist-failed', message: f.reason },
        { errorText: 'internal error: the channel could not be stored', skipMonitor: true },
      );
  }
}

/** The channel with its new normal state, and `commitments` brought in step with it. */
export function withNormal(s: ChannelState, n: NormalState, effects: readonly NormalEffect[]): ChannelState {
  const c = s.commitments;
  if (!c) return { ...s, normal: n, nextMonitorUpdateId: n.nextMonitorUpdateId };
  let holder = c.holder;
  let counterparty = c.counterparty;
  for (const e of effects)
    if (e.kind === 'persist-monitor')
      for (const step of (e.update as ChannelMonitorUpdate).steps) {
        if (step.kind === 'holder-commitment') holder = step.commitment;
        else if (step.kind === 'counterparty-commitment') counterparty = step.commitment;
      }
  const balances = balancesOf(n.ledger, 'local');
  const commitments: Commitments = {
    ...c,
    localCommitmentNumber: n.commitments.holder.number,
    remoteCommitmentNumber: n.commitments.counterparty.number,
    toLocalMsat: balances.toLocalMsat,
    toRemoteMsat: balances.toRemoteMsat,
    feeratePerKw: feerateOf(n.ledger, 'local'),
    holder,
    counterparty,
  };
  return { ...s, normal: n, nextMonitorUpdateId: n.nextMonitorUpdateId, commitments };
}

/**
 * Reestablish with normal operation (htlc/README.md step 7), for reestablish.ts: our
 * channel_reestablish from the ledger's numbers, and the state that sent it.
 */
export function normalReconnected(s: ChannelState): { state: ChannelState; message: ChannelReestablish } {
  const n = normalOf(s);
  const r = normalStep(n, { kind: 'peer-reconnected' }, DEFAULT_NORMAL_CONTEXT);
  return { state: withNormal(s, r.state, r.effects), message: reestablishMessage(n) };
}

export function normalDisconnected(s: ChannelState): ChannelState {
  const n = normalOf(s);
  const r = normalStep(n, { kind: 'peer-disconnected' }, DEFAULT_NORMAL_CONTEXT);
  return withNormal(s, r.state, r.effects);
}

/** The peer's channel_reestablish: checked against the ledger, and what it missed retransmitted. */
export function normalReestablish(s: ChannelState, m: ChannelReestablish): Step {
  return run(s, { kind: 'channel-reestablish', message: m }, undefined);
}

/** Whether the channel is in normal operation with a ledger of its own (a ready channel that moved). */
export function hasNormal(s: ChannelState): boolean {
  return s.normal !== undefined && NORMAL_PHASES.has(s.phase);
}
