/**
 * BOLT 2 "Message Retransmission" with HTLCs: our channel_reestablish, and what the peer's
 * says we must send again — revoke_and_ack, the updates and commitment_signed it did not get,
 * in the order they first went — as a function of the ledger and the two commitments.
 */
import { CounterpartyCommitmentSecrets, perCommitmentPointFromSecret, secretIndex } from '@lnkit/keys';
import { bytesEqual, type ChannelReestablish } from '@lnkit/wire';
import type { Refusal } from '../checks.ts';
import { addMessage, feeMessage, removeMessage } from './messages.ts';
import type { NormalState, OutboxEntry } from './normal-state.ts';

const ZERO_SECRET = new Uint8Array(32);

/** The number of the revoke_and_ack we expect next: the one revoking their commitment before the newest. */
function expectedRevocationNumber(s: NormalState): bigint {
  const cp = s.commitments.counterparty;
  return cp.awaitingRevoke ? cp.number - 1n : cp.number;
}

/** Our channel_reestablish (BOLT 2: "The sending node: ..."). */
export function reestablishMessage(s: NormalState): ChannelReestablish {
  const nextRevocationNumber = expectedRevocationNumber(s);
  return {
    type: 136,
    kind: 'channel_reestablish',
    channelId: s.params.channelId,
    // "MUST set next_commitment_number to the commitment number of the next commitment_signed it expects to receive."
    nextCommitmentNumber: s.commitments.holder.number + 1n,
    // "MUST set next_revocation_number to the commitment number of the next revoke_and_ack message it expects to receive."
    nextRevocationNumber,
    // "if next_revocation_number equals 0: MUST set your_last_per_commitment_secret to all
    // zeroes; otherwise: MUST set your_last_per_commitment_secret to the last
    // per_commitment_secret it received"
    yourLastPerCommitmentSecret:
      nextRevocationNumber === 0n
        ? ZERO_SECRET
        : CounterpartyCommitmentSecrets.deserialize(s.commitments.counterparty.secrets).getSecret(
            secretIndex(nextRevocationNumber - 1n),
          ),
    myCurrentPerCommitmentPoint: s.commitments.holder.perCommitmentPoint,
  };
}

export type RetransmissionPlan =
  | { ok: true; entries: OutboxEntry[] }
  /** `behind`: the peer proved a state newer than ours: we lost data and must not broadcast. */
  | { ok: false; refusal: Refusal; behind?: boolean };

const refuse = (field: string, reason: string, behind?: boolean): RetransmissionPlan => ({
  ok: false,
  refusal: { field, reason },
  ...(behind ? { behind } : {}),
});

/** What to send again after their channel_reestablish `m`, in order. */
export function planRetransmission(s: NormalState, m: ChannelReestablish): RetransmissionPlan {
  const holder = s.commitments.holder;
  const cp = s.commitments.counterparty;
  // "if next_commitment_number is zero: MUST immediately fail the channel and broadcast"
  if (m.nextCommitmentNumber === 0n) return refuse('next_commitment_number', 'next_commitment_number is 0');

  // Their next_commitment_number against our last commitment_signed: "if next_commitment_number
  // is equal to the commitment number of the last commitment_signed message the receiving
  // node has sent: MUST reuse the same commitment number for its next commitment_signed".
  let resendCommitment = false;
  if (m.nextCommitmentNumber === cp.number && cp.awaitingRevoke) resendCommitment = true;
  else if (m.nextCommitmentNumber !== cp.number + 1n)
    return refuse(
      'next_commitment_number',
      `next_commitment_number ${m.nextCommitmentNumber} is neither our last commitment ${cp.number} nor the next`,
    );
  if (resendCommitment && s.lastCommitment?.number !== cp.number)
    return refuse('next_commitment_number', `commitment_signed ${cp.number} is not held to be sent again`);

  // Their next_revocation_number against our last revoke_and_ack (which revoked holder.number - 1).
  let resendRevocation = false;
  const n = m.nextRevocationNumber;
  if (n > holder.number) {
    // "if next_revocation_number is greater than expected above, AND your_last_per_commitment_secret
    // is correct for that next_revocation_number minus 1: MUST NOT broadcast its commitment transaction."
    return refuse('next_revocation_number', `the peer expects revocation ${n}: this node lost data`, true);
  }
  if (holder.number > 0n && n === holder.number - 1n) resendRevocation = true;
  else if (n !== holder.number)
    return refuse(
      'next_revocation_number',
      `next_revocation_number ${n} is neither ${holder.number} nor one below (our last revocation)`,
    );
  if (resendRevocation && s.lastRevocation?.revokedNumber !== n)
    return refuse('next_revocation_number', `revoke_and_ack ${n} is not held to be sent again`);

  // "if your_last_per_commitment_secret does not match the expected values: SHOULD send an
  // error and fail the channel" — the secret of our commitment n - 1, or zeroes when n is 0.
  if (n === 0n) {
    if (!bytesEqual(m.yourLastPerCommitmentSecret, ZERO_SECRET))
      return refuse(
        'your_last_per_commitment_secret',
        'your_last_per_commitment_secret is not zero, and nothing was revoked',
      );
  } else {
    // revokedPoints holds the points of holder.number - 2 and holder.number - 1.
    const point = holder.revokedPoints.at(Number(n - 1n - holder.number));
    if (point) {
      let derived: Uint8Array | undefined;
      try {
        derived = perCommitmentPointFromSecret(m.yourLastPerCommitmentSecret);
      } catch {
        derived = undefined;
      }
      if (!derived || !bytesEqual(derived, point))
        return refuse(
          'your_last_per_commitment_secret',
          `your_last_per_commitment_secret is not our secret ${n - 1n}`,
        );
    }
  }

  // Everything we sent that the peer must get again, each with the order it first went in.
  const channelId = s.params.channelId;
  const items: { seq: number; entry: OutboxEntry }[] = [];
  if (resendRevocation && s.lastRevocation)
    items.push({ seq: s.lastRevocation.seq, entry: { kind: 'revoke_and_ack', revokedNumber: n } });
  if (resendCommitment && s.lastCommitment)
    items.push({ seq: s.lastCommitment.seq, entry: { kind: 'commitment_signed', number: cp.number } });
  // Messages rebuilt from the ledger wait for every monitor update on its way (a fulfill's
  // preimage among them): the updates complete in order, so the newest is enough.
  const awaitUpdateId = s.persisting.at(-1);
  const message = (seq: number | undefined, msg: Parameters<typeof wrap>[0]) => {
    if (seq !== undefined) items.push({ seq, entry: wrap(msg, awaitUpdateId) });
  };
  for (const h of s.ledger.htlcs) {
    // Ours: the peer reversed those it had no commitment_signed for, so they go again —
    // those our lost commitment_signed covered, and those never signed for.
    if (h.direction === 'offered') {
      if (h.state === 'sent-add-htlc' || (resendCommitment && h.state === 'sent-add-commit'))
        message(h.addSeq, addMessage(channelId, h));
    } else if (h.state === 'sent-remove-htlc' || (resendCommitment && h.state === 'sent-remove-commit')) {
      message(h.removeSeq, removeMessage(channelId, h));
    }
  }
  for (const f of s.ledger.feeUpdates)
    if (f.state === 'sent-add-htlc' || (resendCommitment && f.state === 'sent-add-commit'))
      message(f.seq, feeMessage(channelId, f));
  items.sort((a, b) => a.seq - b.seq);
  return { ok: true, entries: items.map((i) => i.entry) };
}

function wrap(message: ReturnType<typeof addMessage>, awaitUpdateId: bigint | undefined): OutboxEntry {
  return { kind: 'message', message, awaitUpdateId };
}
