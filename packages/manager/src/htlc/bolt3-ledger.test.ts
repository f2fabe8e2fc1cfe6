/**
 * BOLT 3 Appendix C (and F, anchors) through the ledger: for each vector, a channel whose ledger holds the
 * appendix's HTLCs and balances, and whose last update_fee (ours: the local side opened)
 * brings the vector's feerate, receives a commitment_signed carrying the appendix's remote
 * signatures. The core must accept them — which it can only do if the commitment and HTLC
 * transactions it built are the appendix's — and the commitment it persists, completed with
 * the appendix's local signature, is the appendix's transaction byte for byte; so are the
 * HTLC transactions.
 *
 * The vectors are @lnkit/tx's fixtures (extracted from BOLT 3 by packages/tx/scripts), read
 * in place rather than copied twice.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { secp, sha256 } from '@lnkit/crypto';
import { CounterpartyCommitmentSecrets } from '@lnkit/keys';
import type { ChannelSideParams, HolderCommitmentData } from '@lnkit/monitor';
import {
  buildHtlcTransactions,
  type ChannelType,
  commitmentSighash,
  finalizeCommitment,
  finalizeHtlcTransaction,
  htlcSighash,
  obscuringFactor,
  Transaction,
} from '@lnkit/tx';
import type { CommitmentSigned } from '@lnkit/wire';
import { buildCommitment, commitmentSpec, type HtlcChannelParams } from './build.ts';
import { emptyLedger, type LedgerHtlc } from './ledger.ts';
import { normalStep } from './normal.ts';
import type { NormalState } from './normal-state.ts';
import { CTX } from './test-harness.ts';

const C = JSON.parse(
  readFileSync(
    new URL('../../../tx/src/fixtures/bolt03-commitment-static-remotekey.json', import.meta.url),
    'utf8',
  ),
) as {
  common: Record<string, string>;
  htlcs: {
    index: number;
    direction: string;
    amountMsat: number;
    cltvExpiry: number;
    paymentPreimage: string;
  }[];
  vectors: {
    name: string;
    toLocalMsat: number;
    toRemoteMsat: number;
    feeratePerKw: number;
    remoteSignature: string;
    localSignature: string;
    commitTx: string;
    htlcTxs: {
      outputIndex: number;
      htlcIndex: number;
      remoteSignature: string;
      localSignature: string;
      tx: string;
    }[];
  }[];
};

const hex = (s: string | undefined): Uint8Array => {
  assert.ok(s !== undefined, 'fixture value present');
  return new Uint8Array(Buffer.from(s, 'hex'));
};
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const c = C.common;

/** DER (as the appendix prints signatures) to 64-byte compact (as BOLT 2 messages carry them). */
function compact(der: string): Uint8Array {
  const b = hex(der);
  assert.equal(b[0], 0x30);
  const rLen = b[3] as number;
  const r = b.subarray(4, 4 + rLen);
  const s = b.subarray(6 + rLen, 6 + rLen + (b[5 + rLen] as number));
  const out = new Uint8Array(64);
  const strip = (x: Uint8Array) => x.subarray(x.length - Math.min(x.length, 32));
  out.set(strip(r), 32 - strip(r).length);
  out.set(strip(s), 64 - strip(s).length);
  return out;
}

const point = (k: string) => hex(c[k]);
// Appendix C gives no local revocation basepoint (it is not in the local commitment): any
// valid point stands in for it; the HTLC basepoints are the payment basepoints.
const local: ChannelSideParams = {
  dustLimitSat: BigInt(c.local_dust_limit_satoshi as string),
  maxHtlcValueInFlightMsat: 10n ** 13n,
  channelReserveSat: 0n,
  htlcMinimumMsat: 0n,
  toSelfDelay: 144,
  maxAcceptedHtlcs: 483,
  fundingPubkey: point('local_funding_pubkey'),
  revocationBasepoint: point('remote_revocation_basepoint'),
  paymentBasepoint: point('local_payment_basepoint'),
  delayedPaymentBasepoint: point('local_delayed_payment_basepoint'),
  htlcBasepoint: point('local_htlc_basepoint'),
};
const remote: ChannelSideParams = {
  ...local,
  // "local_delay: 144" is the delay the remote side imposes on the local to_local.
  toSelfDelay: Number(c.local_delay),
  fundingPubkey: point('remote_funding_pubkey'),
  revocationBasepoint: point('remote_revocation_basepoint'),
  paymentBasepoint: point('remote_payment_basepoint'),
  delayedPaymentBasepoint: point('remote_payment_basepoint'),
  htlcBasepoint: point('remote_htlc_basepoint'),
};
const params: HtlcChannelParams = {
  channelId: new Uint8Array(32).fill(0xcc),
  channelType: 'static_remotekey',
  // Appendix C: the local side is the opener.
  isFunder: true,
  fundingSat: BigInt(c.funding_amount_satoshi as string),
  fundingOutpoint: { txid: hex(c.funding_tx_id).reverse(), vout: Number(c.funding_output_index) },
  local,
  remote,
  obscuringFactor: obscuringFactor(local.paymentBasepoint, remote.paymentBasepoint),
};
const NUMBER = BigInt(c.commitment_number as string);

/** The appendix's HTLCs, committed in both commitments; "same amount and preimage" uses #1, #5 and #6. */
function ledgerHtlcs(name: string): LedgerHtlc[] {
  const ids = name.includes('same amount and preimage') ? [1, 5, 6] : [0, 1, 2, 3, 4];
  return C.htlcs
    .filter((h) => ids.includes(h.index))
    .map((h) => {
      const offered = h.direction === 'local->remote';
      return {
        id: BigInt(h.index),
        direction: offered ? 'offered' : 'received',
        amountMsat: BigInt(h.amountMsat),
        paymentHash: sha256(hex(h.paymentPreimage)),
        cltvExpiry: h.cltvExpiry,
        onionRoutingPacket: new Uint8Array(0),
        state: offered ? 'sent-add-ack-revocation' : 'rcvd-add-ack-revocation',
      };
    });
}

interface Vector {
  name: string;
  channelType: ChannelType;
  dustLimitSat: bigint;
  toLocalMsat: bigint;
  toRemoteMsat: bigint;
  feeratePerKw: number;
  useHtlcs: boolean;
}

function paramsFor(v: Vector): HtlcChannelParams {
  return {
    ...params,
    channelType: v.channelType,
    local: { ...local, dustLimitSat: v.dustLimitSat },
  };
}

function stateFor(v: Vector): NormalState {
  const htlcs = v.useHtlcs ? ledgerHtlcs(v.name) : [];
  // The settled balances give each HTLC back to its offerer.
  const offered = htlcs.filter((h) => h.direction === 'offered').reduce((s, h) => s + h.amountMsat, 0n);
  const received = htlcs.filter((h) => h.direction === 'received').reduce((s, h) => s + h.amountMsat, 0n);
  const base = emptyLedger({
    feeratePerKw: 253,
    toLocalMsat: v.toLocalMsat + offered,
    toRemoteMsat: v.toRemoteMsat + received,
  });
  return {
    params: paramsFor(v),
    // Our update_fee to the vector's feerate, acknowledged by their revocation: their next
    // commitment_signed brings it into ours.
    ledger: {
      ...base,
      htlcs,
      feeUpdates: [{ feeratePerKw: v.feeratePerKw, state: 'rcvd-add-revocation', seq: 0 }],
      nextSeq: 1,
    },
    commitments: {
      holder: {
        number: NUMBER - 1n,
        perCommitmentPoint: point('remote_funding_pubkey'),
        nextPerCommitmentPoint: point('local_per_commitment_point'),
        revokedPoints: [],
      },
      counterparty: {
        number: NUMBER - 1n,
        perCommitmentPoint: point('remote_funding_pubkey'),
        nextPerCommitmentPoint: point('remote_htlc_basepoint'),
        awaitingRevoke: false,
        secrets: new CounterpartyCommitmentSecrets().serialize(),
      },
    },
    outbox: [],
    heldEvents: [],
    persisting: [],
    nextMonitorUpdateId: 10n,
    link: 'connected',
    shutdownSent: false,
    shutdownReceived: false,
  };
}

test('Appendix C has 16 vectors', () => assert.equal(C.vectors.length, 16));

for (const v of C.vectors) {
  test(`Appendix C through the ledger: ${v.name}`, () => {
    const state = stateFor({
      name: v.name,
      channelType: 'static_remotekey',
      dustLimitSat: local.dustLimitSat,
      toLocalMsat: BigInt(v.toLocalMsat),
      toRemoteMsat: BigInt(v.toRemoteMsat),
      feeratePerKw: Number(v.feeratePerKw),
      useHtlcs: v.name !== 'simple commitment tx with no HTLCs',
    });
    const htlcTxs = [...v.htlcTxs].sort((x, y) => x.outputIndex - y.outputIndex);
    const message: CommitmentSigned = {
      type: 132,
      kind: 'commitment_signed',
      channelId: params.channelId,
      signature: compact(v.remoteSignature),
      htlcSignatures: htlcTxs.map((h) => compact(h.remoteSignature)),
    };
    const step = normalStep(state, { kind: 'message', message }, CTX);
    assert.equal(step.failure, undefined, JSON.stringify(step.failure));
    assert.equal(step.state.commitments.holder.number, NUMBER);
    assert.equal(
      step.state.ledger.feeratePerKw,
      Number(v.feeratePerKw),
      'our update_fee committed on both sides',
    );

    // The commitment persisted for the monitor is the appendix's, unsigned.
    const update = step.effects.find((e) => e.kind === 'persist-monitor');
    assert.ok(update?.kind === 'persist-monitor');
    const held = update.update.steps[0];
    assert.ok(held?.kind === 'holder-commitment');
    const record: HolderCommitmentData = held.commitment;
    const expected = Transaction.fromHex(v.commitTx);
    assert.equal(record.txid, expected.getId());
    assert.equal(record.commitmentNumber, NUMBER);
    assert.equal(record.feeratePerKw, Number(v.feeratePerKw));
    assert.equal(
      record.htlcs?.length,
      v.name === 'simple commitment tx with no HTLCs' ? 0 : ledgerHtlcs(v.name).length,
    );

    // Rebuilt from the new ledger and completed with the local signature: byte for byte.
    const commitment = buildCommitment(
      params,
      commitmentSpec(step.state.ledger, 'local'),
      NUMBER,
      point('local_per_commitment_point'),
    );
    assert.equal(toHex(new Uint8Array(commitment.tx.toBuffer())), toHex(record.tx));
    const signed = finalizeCommitment(commitment, compact(v.localSignature), message.signature);
    assert.equal(signed.toHex(), v.commitTx);
    const built = buildHtlcTransactions(commitment);
    assert.equal(built.length, htlcTxs.length);
    for (const [i, h] of built.entries()) {
      const want = htlcTxs[i];
      assert.ok(want);
      const preimage = C.htlcs.find((x) => BigInt(x.index) === h.htlc.id)?.paymentPreimage;
      const tx = finalizeHtlcTransaction(
        h,
        compact(want.localSignature),
        compact(want.remoteSignature),
        h.kind === 'htlc-success' ? hex(preimage) : undefined,
      );
      assert.equal(tx.toHex(), want.tx, `HTLC transaction ${i}`);
    }
  });
}

const F = JSON.parse(
  readFileSync(new URL('../../../tx/src/fixtures/bolt03-commitment-anchors.json', import.meta.url), 'utf8'),
) as {
  vectors: {
    Name: string;
    LocalBalance: string;
    RemoteBalance: string;
    DustLimitSatoshis: string;
    FeePerKw: string;
    UseTestHtlcs: string | boolean;
    HtlcDescs: { RemoteSigHex: string; ResolutionTxHex: string }[];
    ExpectedCommitmentTxHex: string;
    RemoteSigHex: string;
  }[];
};

test('Appendix F has 9 vectors', () => assert.equal(F.vectors.length, 9));

for (const v of F.vectors) {
  test(`Appendix F (anchors) through the ledger: ${v.Name}`, () => {
    const vector: Vector = {
      name: v.Name,
      channelType: 'anchors_zero_fee_htlc_tx',
      dustLimitSat: BigInt(v.DustLimitSatoshis),
      toLocalMsat: BigInt(v.LocalBalance),
      toRemoteMsat: BigInt(v.RemoteBalance),
      feeratePerKw: Number(v.FeePerKw),
      useHtlcs: v.UseTestHtlcs === true || v.UseTestHtlcs === 'True',
    };
    const state = stateFor(vector);
    const message: CommitmentSigned = {
      type: 132,
      kind: 'commitment_signed',
      channelId: params.channelId,
      signature: compact(v.RemoteSigHex),
      // With anchors they sign our HTLC transactions SIGHASH_SINGLE|ANYONECANPAY: the check must know.
      htlcSignatures: v.HtlcDescs.map((h) => compact(h.RemoteSigHex)),
    };
    const step = normalStep(state, { kind: 'message', message }, CTX);
    assert.equal(step.failure, undefined, JSON.stringify(step.failure));
    const commitment = buildCommitment(
      paramsFor(vector),
      commitmentSpec(step.state.ledger, 'local'),
      NUMBER,
      point('local_per_commitment_point'),
    );
    const localSig = secp.sign(commitmentSighash(commitment), hex(c.local_funding_privkey));
    assert.equal(
      finalizeCommitment(commitment, localSig, message.signature).toHex(),
      v.ExpectedCommitmentTxHex,
    );
    const update = step.effects.find((e) => e.kind === 'persist-monitor');
    assert.ok(update?.kind === 'persist-monitor' && update.update.steps[0]?.kind === 'holder-commitment');
    assert.equal(
      update.update.steps[0].commitment.txid,
      Transaction.fromHex(v.ExpectedCommitmentTxHex).getId(),
    );
    for (const [i, h] of buildHtlcTransactions(commitment).entries()) {
      const want = v.HtlcDescs[i];
      assert.ok(want);
      const preimage = C.htlcs.find((x) => BigInt(x.index) === h.htlc.id)?.paymentPreimage;
      const tx = finalizeHtlcTransaction(
        h,
        secp.sign(htlcSighash(h, 'owner'), hex(c.local_privkey)),
        compact(want.RemoteSigHex),
        h.kind === 'htlc-success' ? hex(preimage) : undefined,
      );
      assert.equal(tx.toHex(), want.ResolutionTxHex, `HTLC transaction ${i}`);
    }
  });
}
