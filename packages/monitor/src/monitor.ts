/**
 * The ChannelMonitor's update core: state + numbered update → new state, or a MonitorError and
 * the state unchanged. Pure: no I/O, no clock; the old monitor is never modified, so a caller
 * can apply, persist, and only then keep the new one.
 *
 * Each update must carry the next id (1 for the channel-opened update, then 2, 3, …): an
 * update out of order means the channel and its monitor disagree about what is durable, and
 * applying it could lose a commitment the chain may still see.
 */
import {
  CounterpartyCommitmentSecrets,
  KeysError,
  perCommitmentPointFromSecret,
  type SignerState,
  secretIndex,
} from '@lnkit/keys';
import { crypto as btcCrypto } from 'bitcoinjs-lib';
import { channelParameters, checkCommitment, equal, fundingKeyOf } from './commitment.ts';
import { checkBytes, MonitorError } from './errors.ts';
import type {
  BestBlock,
  ChannelInfo,
  ChannelMonitor,
  ChannelMonitorUpdate,
  CommitmentData,
  HolderCommitmentData,
  MonitorUpdateStep,
} from './types.ts';

/**
 * Builds a monitor from its first update (id 1, one `channel-opened` step). `bestBlock` is the
 * chain tip the caller is at (the ChainMonitor's): nothing can spend the funding output before
 * the channel exists, so the monitor watches the blocks after it.
 */
export function createMonitor(update: ChannelMonitorUpdate, bestBlock: BestBlock): ChannelMonitor {
  checkUpdateId(update, 0n);
  const [step, ...rest] = update.steps;
  if (step?.kind !== 'channel-opened' || rest.length > 0)
    throw new MonitorError('invalid-update', 'update 1 must be a single channel-opened step');
  const { kind: _kind, holderCommitment, counterpartyCommitment, ...info } = step;
  if (!equal(update.channelId, info.channelId))
    throw new MonitorError('invalid-update', 'update 1 names another channel than the one it opens');
  const channel = channelParameters(info);
  checkCommitment(channel, holderCommitment, 'holder');
  checkCommitment(channel, counterpartyCommitment, 'counterparty');
  return {
    fundingKey: fundingKeyOf(info.fundingOutpoint),
    latestUpdateId: 1n,
    info: info satisfies ChannelInfo,
    channel,
    holderCommitment,
    counterpartyCommitments: [counterpartyCommitment],
    revokedCounterpartyHtlcs: [],
    commitmentSecrets: new CounterpartyCommitmentSecrets().serialize(),
    preimages: [],
    bestBlock: { hashHex: bestBlock.hashHex, height: bestBlock.height },
  };
}

/** Applies the next update; throws MonitorError (and changes nothing) if it cannot. */
export function applyMonitorUpdate(monitor: ChannelMonitor, update: ChannelMonitorUpdate): ChannelMonitor {
  checkUpdateId(update, monitor.latestUpdateId);
  if (!equal(update.channelId, monitor.channel.channelId))
    throw new MonitorError('invalid-update', `update ${update.updateId} is for another channel`);
  if (update.steps.length === 0)
    throw new MonitorError('invalid-update', `update ${update.updateId} has no step`);
  let m = monitor;
  for (const step of update.steps) m = applyStep(m, step, update.updateId);
  return { ...m, latestUpdateId: update.updateId };
}

function checkUpdateId(update: ChannelMonitorUpdate, latest: bigint): void {
  const got = update.updateId;
  const expected = latest + 1n;
  if (typeof got !== 'bigint' || got !== expected)
    throw new MonitorError(
      'update-out-of-order',
      `monitor update out of order: expected update ${expected}, got ${got}`,
      {
        expected,
        got: typeof got === 'bigint' ? got : -1n,
      },
    );
}

function applyStep(m: ChannelMonitor, step: MonitorUpdateStep, updateId: bigint): ChannelMonitor {
  switch (step.kind) {
    case 'channel-opened':
      throw new MonitorError(
        'invalid-update',
        `update ${updateId}: a channel-opened step after the monitor exists`,
      );
    case 'counterparty-commitment':
      return addCounterpartyCommitment(m, step.commitment, updateId);
    case 'holder-commitment':
      return addHolderCommitment(m, step.commitment, updateId);
    case 'commitment-secret':
      return addCommitmentSecret(m, step.commitmentNumber, step.secret);
    case 'payment-preimage': {
      const preimage = checkBytes(step.paymentPreimage, 32, 'payment preimage');
      if (m.preimages.some((p) => equal(p, preimage))) return m;
      return { ...m, preimages: [...m.preimages, preimage] };
    }
    case 'channel-closed':
      // A second close (a force close after a mutual one stalled) may only add the broadcast.
      return {
        ...m,
        closed: {
          reason: m.closed?.reason ?? step.reason,
          broadcastHolderCommitment:
            step.broadcastHolderCommitment || (m.closed?.broadcastHolderCommitment ?? false),
        },
      };
    default:
      throw new MonitorError(
        'invalid-update',
        `update ${updateId}: unknown step ${(step as { kind: string }).kind}`,
      );
  }
}

function refuseIfClosed(m: ChannelMonitor, what: string, updateId: bigint): void {
  if (m.closed)
    throw new MonitorError('channel-closed', `update ${updateId}: ${what} after the channel was closed`);
}

function addCounterpartyCommitment(m: ChannelMonitor, c: CommitmentData, updateId: bigint): ChannelMonitor {
  refuseIfClosed(m, 'a counterparty commitment', updateId);
  const live = m.counterpartyCommitments;
  const last = live[live.length - 1] as CommitmentData;
  if (c.commitmentNumber !== last.commitmentNumber + 1n)
    throw new MonitorError(
      'commitment-out-of-order',
      `update ${updateId}: counterparty commitment ${c.commitmentNumber} after ${last.commitmentNumber}`,
    );
  // BOLT 2: a node must not send commitment_signed until the previous one is revoked, so the
  // counterparty never holds more than two unrevoked commitments.
  if (live.length >= 2)
    throw new MonitorError(
      'commitment-out-of-order',
      `update ${updateId}: counterparty commitment ${c.commitmentNumber} while ${(live[0] as CommitmentData).commitmentNumber} is not revoked`,
    );
  checkCommitment(m.channel, c, 'counterparty');
  return { ...m, counterpartyCommitments: [...live, c] };
}

function addHolderCommitment(m: ChannelMonitor, c: HolderCommitmentData, updateId: bigint): ChannelMonitor {
  refuseIfClosed(m, 'a holder commitment', updateId);
  const current = m.holderCommitment;
  if (c.commitmentNumber !== current.commitmentNumber + 1n)
    throw new MonitorError(
      'commitment-out-of-order',
      `update ${updateId}: holder commitment ${c.commitmentNumber} after ${current.commitmentNumber}`,
    );
  checkCommitment(m.channel, c, 'holder');
  return { ...m, holderCommitment: c, previousHolderCommitment: current };
}

function addCommitmentSecret(m: ChannelMonitor, n: bigint, secret: Uint8Array): ChannelMonitor {
  checkBytes(secret, 32, 'per_commitment_secret');
  const [oldest, ...rest] = m.counterpartyCommitments;
  // BOLT 2: revoke_and_ack revokes the commitment before the one just signed.
  if (!oldest || rest.length === 0 || oldest.commitmentNumber !== n)
    throw new MonitorError(
      'bad-secret',
      `a secret for counterparty commitment ${n}, which is not the one waiting to be revoked`,
    );
  let point: Uint8Array;
  try {
    point = perCommitmentPointFromSecret(secret);
  } catch {
    throw new MonitorError('bad-secret', `the secret for counterparty commitment ${n} is not a valid key`);
  }
  // BOLT 2: "MUST check that per_commitment_secret generates the previous per_commitment_point".
  if (!equal(point, oldest.perCommitmentPoint))
    throw new MonitorError(
      'bad-secret',
      `the secret for counterparty commitment ${n} does not match its point`,
    );
  const secrets = CounterpartyCommitmentSecrets.deserialize(m.commitmentSecrets);
  try {
    secrets.insert(secretIndex(n), secret);
  } catch (e) {
    // BOLT 3 insert_secret: a secret that does not derive the earlier ones is from another seed.
    if (e instanceof KeysError)
      throw new MonitorError('bad-secret', `counterparty commitment ${n}: ${e.message}`);
    throw e;
  }
  const htlcs = oldest.htlcs ?? [];
  return {
    ...m,
    counterpartyCommitments: rest,
    commitmentSecrets: secrets.serialize(),
    revokedCounterpartyHtlcs:
      htlcs.length === 0
        ? m.revokedCounterpartyHtlcs
        : [...m.revokedCounterpartyHtlcs, { txid: oldest.txid, commitmentNumber: n, htlcs }],
  };
}

/** The preimage of `paymentHash`, if the monitor learnt it. */
export function preimageFor(monitor: ChannelMonitor, paymentHash: Uint8Array): Uint8Array | undefined {
  return monitor.preimages.find((p) => equal(btcCrypto.sha256(p), paymentHash));
}

/** The counterparty's revocation secret for its commitment `n`, if received (justice claims). */
export function revocationSecret(monitor: ChannelMonitor, n: bigint): Uint8Array | undefined {
  if (n < 0n || n >= 1n << 48n) return undefined;
  const secrets = CounterpartyCommitmentSecrets.deserialize(monitor.commitmentSecrets);
  if (secretIndex(n) <= secrets.nextIndex) return undefined;
  return secrets.getSecret(secretIndex(n));
}

/**
 * The signer state this monitor implies (`createChannelSigner(index, state)` at restart), so a
 * restarted signer is never older than its channel. Every holder commitment below the current
 * one counts as revoked: the monitor never broadcasts one, whether or not its revoke_and_ack left.
 */
export function signerStateOf(monitor: ChannelMonitor): SignerState {
  const live = monitor.counterpartyCommitments;
  return {
    holderCommitmentNumber: monitor.holderCommitment.commitmentNumber,
    revokedBelow: monitor.holderCommitment.commitmentNumber,
    counterpartyCommitmentNumber: (live[live.length - 1] as CommitmentData).commitmentNumber,
  };
}
