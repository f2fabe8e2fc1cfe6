/**
 * The ChannelMonitor's update core: state + numbered update → new state, or a MonitorError and
 * the state unchanged. Pure: no I/O, no clock; the old monitor is never modified, so a caller
 * can apply, persist, and only then keep the new one.
 *
 * Each update must carry the next id (1 for the initial update, then 2, 3, …): an update out
 * of order means the channel and its monitor disagree about what is durable, and applying it
 * could lose a commitment the chain may still see.
 */
import {
  CounterpartyCommitmentSecrets,
  KeysError,
  perCommitmentPointFromSecret,
  type SignerState,
  secretIndex,
} from '@lnkit/keys';
import { crypto as btcCrypto } from 'bitcoinjs-lib';
import { channelObscuringFactor, fundingKeyOf, unsignedCommitmentTx } from './commitment.ts';
import { checkBytes, MonitorError } from './errors.ts';
import type {
  ChannelMonitor,
  ChannelMonitorUpdate,
  ChannelParameters,
  CounterpartyCommitment,
  HolderCommitment,
  MonitoredCommitment,
  MonitorUpdateStep,
} from './types.ts';

/** Builds a monitor from its first update (id 1, one `initial` step). */
export function createMonitor(update: ChannelMonitorUpdate): ChannelMonitor {
  checkUpdateId(update, 0);
  const [step, ...rest] = update.steps;
  if (step?.type !== 'initial' || rest.length > 0)
    throw new MonitorError('invalid-update', 'update 1 must be a single initial step');
  const { channel } = step;
  checkChannel(channel);
  const factor = channelObscuringFactor(channel);
  checkCommitment(channel, step.holderCommitment, factor, 'holder');
  checkCommitment(channel, step.counterpartyCommitment, factor, 'counterparty');
  return {
    fundingKey: fundingKeyOf(channel.fundingOutpoint),
    latestUpdateId: 1,
    channel,
    holderCommitment: step.holderCommitment,
    counterpartyCommitments: [step.counterpartyCommitment],
    revokedCounterpartyHtlcs: [],
    commitmentSecrets: new CounterpartyCommitmentSecrets().serialize(),
    preimages: [],
    bestBlock: { ...step.bestBlock },
  };
}

/** Applies the next update; throws MonitorError (and changes nothing) if it cannot. */
export function applyMonitorUpdate(monitor: ChannelMonitor, update: ChannelMonitorUpdate): ChannelMonitor {
  checkUpdateId(update, monitor.latestUpdateId);
  if (update.steps.length === 0)
    throw new MonitorError('invalid-update', `update ${update.updateId} has no step`);
  let m = monitor;
  for (const step of update.steps) m = applyStep(m, step, update.updateId);
  return { ...m, latestUpdateId: update.updateId };
}

function checkUpdateId(update: ChannelMonitorUpdate, latest: number): void {
  const got = update.updateId;
  if (!Number.isSafeInteger(got) || got !== latest + 1)
    throw new MonitorError(
      'update-out-of-order',
      `monitor update out of order: expected update ${latest + 1}, got ${got}`,
      { expected: latest + 1, got },
    );
}

function applyStep(m: ChannelMonitor, step: MonitorUpdateStep, updateId: number): ChannelMonitor {
  const factor = channelObscuringFactor(m.channel);
  switch (step.type) {
    case 'initial':
      throw new MonitorError(
        'invalid-update',
        `update ${updateId}: an initial step after the monitor exists`,
      );
    case 'counterparty-commitment':
      return addCounterpartyCommitment(m, step.commitment, factor, updateId);
    case 'holder-commitment':
      return addHolderCommitment(m, step.commitment, factor, updateId);
    case 'commitment-secret':
      return addCommitmentSecret(m, step.commitmentNumber, step.secret);
    case 'payment-preimage': {
      const preimage = checkBytes(step.preimage, 32, 'payment preimage');
      if (m.preimages.some((p) => equalBytes(p, preimage))) return m;
      return { ...m, preimages: [...m.preimages, preimage] };
    }
    case 'channel-force-closed':
      return {
        ...m,
        closed: {
          broadcastHolderCommitment:
            step.broadcastHolderCommitment || (m.closed?.broadcastHolderCommitment ?? false),
        },
      };
    default:
      throw new MonitorError(
        'invalid-update',
        `update ${updateId}: unknown step ${(step as { type: string }).type}`,
      );
  }
}

function refuseIfClosed(m: ChannelMonitor, what: string, updateId: number): void {
  if (m.closed)
    throw new MonitorError(
      'channel-closed',
      `update ${updateId}: ${what} after the channel was force-closed`,
    );
}

function addCounterpartyCommitment(
  m: ChannelMonitor,
  c: CounterpartyCommitment,
  factor: bigint,
  updateId: number,
): ChannelMonitor {
  refuseIfClosed(m, 'a counterparty commitment', updateId);
  const live = m.counterpartyCommitments;
  const last = live[live.length - 1] as CounterpartyCommitment;
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
      `update ${updateId}: counterparty commitment ${c.commitmentNumber} while ${(live[0] as CounterpartyCommitment).commitmentNumber} is not revoked`,
    );
  checkCommitment(m.channel, c, factor, 'counterparty');
  return { ...m, counterpartyCommitments: [...live, c] };
}

function addHolderCommitment(
  m: ChannelMonitor,
  c: HolderCommitment,
  factor: bigint,
  updateId: number,
): ChannelMonitor {
  refuseIfClosed(m, 'a holder commitment', updateId);
  const current = m.holderCommitment;
  if (c.commitmentNumber !== current.commitmentNumber + 1n)
    throw new MonitorError(
      'commitment-out-of-order',
      `update ${updateId}: holder commitment ${c.commitmentNumber} after ${current.commitmentNumber}`,
    );
  checkCommitment(m.channel, c, factor, 'holder');
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
  if (!equalBytes(point, oldest.perCommitmentPoint))
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
  const withHtlcs = oldest.htlcs.filter((h) => h.vout !== undefined);
  return {
    ...m,
    counterpartyCommitments: rest,
    commitmentSecrets: secrets.serialize(),
    revokedCounterpartyHtlcs:
      withHtlcs.length === 0
        ? m.revokedCounterpartyHtlcs
        : [...m.revokedCounterpartyHtlcs, { txid: oldest.txid, commitmentNumber: n, htlcs: withHtlcs }],
  };
}

function checkChannel(c: ChannelParameters): void {
  checkBytes(c.channelId, 32, 'channel_id');
  checkBytes(c.counterpartyNodeId, 33, 'counterparty node id');
  checkBytes(c.fundingOutpoint.txid, 32, 'funding txid');
  if (
    !Number.isInteger(c.fundingOutpoint.vout) ||
    c.fundingOutpoint.vout < 0 ||
    c.fundingOutpoint.vout > 0xffff
  )
    throw new MonitorError('invalid-argument', 'funding output index out of range');
  if (c.fundingSat <= 0n) throw new MonitorError('invalid-argument', 'funding amount must be positive');
  for (const [who, keys] of [
    ['holder', c.holderPubkeys],
    ['counterparty', c.counterpartyPubkeys],
  ] as const) {
    for (const [name, key] of Object.entries(keys)) checkBytes(key, 33, `${who} ${name}`);
  }
  for (const d of [c.holderToSelfDelay, c.counterpartyToSelfDelay])
    if (!Number.isInteger(d) || d < 0 || d > 0xffff)
      throw new MonitorError('invalid-argument', 'to_self_delay out of range');
}

/** The txid must be the transaction the kept outputs make: what is stored is what can be recognised. */
function checkCommitment(
  channel: ChannelParameters,
  c: MonitoredCommitment,
  factor: bigint,
  owner: 'holder' | 'counterparty',
): void {
  checkBytes(c.txid, 32, `${owner} commitment txid`);
  checkBytes(c.perCommitmentPoint, 33, `${owner} per_commitment_point`);
  if (c.commitmentNumber < 0n || c.commitmentNumber >= 1n << 48n)
    throw new MonitorError('invalid-argument', `${owner} commitment number out of the 48-bit range`);
  for (const h of c.htlcs) {
    if (h.vout !== undefined && c.outputs[h.vout]?.kind !== 'htlc')
      throw new MonitorError(
        'invalid-argument',
        `${owner} commitment: HTLC ${h.id} points at an output that is not an HTLC`,
      );
  }
  const rebuilt = new Uint8Array(unsignedCommitmentTx(channel, c, factor).getHash());
  if (!equalBytes(rebuilt, c.txid))
    throw new MonitorError(
      'commitment-mismatch',
      `${owner} commitment ${c.commitmentNumber}: its txid is not that of the transaction its outputs make`,
    );
}

/** The preimage of `paymentHash`, if the monitor learnt it. */
export function preimageFor(monitor: ChannelMonitor, paymentHash: Uint8Array): Uint8Array | undefined {
  return monitor.preimages.find((p) => equalBytes(btcCrypto.sha256(p), paymentHash));
}

/** The counterparty's revocation secret for its commitment `n`, if received (justice claims). */
export function revocationSecret(monitor: ChannelMonitor, n: bigint): Uint8Array | undefined {
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
    counterpartyCommitmentNumber: (live[live.length - 1] as CounterpartyCommitment).commitmentNumber,
  };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
