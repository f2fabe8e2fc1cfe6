/**
 * Force close in the core, without threads or sockets: on the user's request and on a
 * protocol violation, our latest commitment is signed by the signer, completed with the
 * peer's signature we hold, and broadcast — after the monitor is told and before the peer
 * hears the error; the channel is `closing` until a block spends the funding, then `closed`.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { encodeSignature, SIGHASH_ALL, Transaction } from '@lnkit/tx';
import type { ChannelEffect } from './channel-state.ts';
import { FUNDING_TIMEOUT_BLOCKS } from './config.ts';
import { accept, openToReady, pair, pump } from './test-fixtures.ts';

const kinds = (effects: ChannelEffect[]) => effects.map((e) => e.kind);

test('force close on request: monitor told, our commitment signed by both and broadcast, then the error; closed when the spend confirms', async () => {
  const { funder, fundee } = await openToReady({ pushMsat: 10_000_000n });
  const before = funder.effects.length;
  await funder.input({ kind: 'force-close' });
  const s = funder.state;
  assert.equal(s?.phase, 'closing');
  const effects = funder.effects.slice(before);
  const order = kinds(effects);
  const persist = order.indexOf('persist-monitor');
  const sign = order.indexOf('sign-holder-commitment');
  const broadcast = order.indexOf('broadcast');
  const error = effects.findIndex((e) => e.kind === 'send' && e.message.kind === 'error');
  assert.ok(persist >= 0 && persist < sign && sign < broadcast && broadcast < error, order.join(','));
  const closedStep = funder.persisted.at(-1)?.steps[0];
  assert.ok(closedStep?.kind === 'channel-closed' && closedStep.broadcastHolderCommitment);

  // The broadcast is our holder commitment, spending the funding output with both signatures.
  const raw = funder.broadcasts.at(-1) as Uint8Array;
  const tx = Transaction.fromBuffer(Buffer.from(raw));
  const holder = s?.commitments?.holder;
  const funding = s?.funding;
  assert.ok(holder && funding && s?.remote);
  assert.equal(tx.getId(), Transaction.fromBuffer(Buffer.from(holder.tx)).getId(), 'the holder commitment');
  assert.equal(s.forceClose?.commitmentTxid, tx.getId());
  assert.deepEqual(new Uint8Array(tx.ins[0]?.hash ?? []), funding.outpoint.txid);
  const witness = tx.ins[0]?.witness ?? [];
  assert.equal(witness.length, 4);
  assert.deepEqual(new Uint8Array(witness[3] ?? []), funding.script);
  const sighash = tx.hashForWitnessV0(0, funding.script, s.fundingSat, SIGHASH_ALL);
  const sighashBytes = new Uint8Array(sighash);
  const theirs = holder.counterpartySignature;
  const ours = (
    await funder.signer.signHolderCommitment({
      commitmentNumber: holder.commitmentNumber,
      commitmentSighash: sighashBytes,
      htlcSighashes: [],
    })
  ).signature;
  assert.ok(
    secp.verify(theirs, sighashBytes, s.remote.fundingPubkey),
    'their signature is over this commitment',
  );
  assert.ok(secp.verify(ours, sighashBytes, s.keys.pubkeys.fundingPubkey), 'ours too');
  const items = [witness[1], witness[2]].map((w) => Buffer.from(w ?? []).toString('hex')).sort();
  const expected = [ours, theirs]
    .map((c) => Buffer.from(encodeSignature(c, SIGHASH_ALL)).toString('hex'))
    .sort();
  assert.deepEqual(items, expected, 'the witness carries both signatures');
  // The peer hears the error and fails the channel too (its own commitment to the chain).
  await pump(funder, fundee);
  assert.equal(fundee.state?.phase, 'closing');
  assert.equal(fundee.state?.closure?.kind, 'counterparty-error');

  // A second request changes nothing; the spend confirming closes it.
  const n = funder.broadcasts.length;
  const updates = funder.persisted.length;
  await funder.input({ kind: 'force-close' });
  assert.equal(funder.broadcasts.length, n);
  await funder.input({ kind: 'funding-spent', height: 510, txid: tx.getId() });
  assert.equal(funder.state?.phase, 'closed');
  const closed = funder.events.at(-1);
  assert.deepEqual(closed?.type === 'ChannelClosed' && closed.reason, {
    kind: 'holder-force-closed',
    commitmentTxid: tx.getId(),
  });
  assert.equal(funder.persisted.length, updates, 'the monitor already knew: no further update');
});

test('force close before the funding is out: nothing to broadcast, the channel fails at once', async () => {
  const { funder } = await pair();
  await funder.input({ kind: 'force-close' });
  assert.equal(funder.state?.phase, 'closed');
  assert.equal(funder.broadcasts.length, 0);
  assert.equal(funder.releases, 0, 'no funding was requested yet');
  assert.deepEqual(funder.state?.closure, { kind: 'holder-force-closed', commitmentTxid: null });
});

test('a protocol violation after the funding is out is a force close with an error naming the field', async () => {
  const { funder, fundee } = await openToReady();
  await funder.input({
    kind: 'message',
    message: {
      type: 36,
      kind: 'channel_ready',
      channelId: funder.state?.channelId as Uint8Array,
      secondPerCommitmentPoint: new Uint8Array(33).fill(9),
    },
  });
  assert.equal(funder.state?.phase, 'closing');
  assert.equal(
    funder.state?.closure?.kind === 'protocol-violation' && funder.state.closure.field,
    'second_per_commitment_point',
  );
  assert.equal(funder.broadcasts.length, 2, 'funding, then our commitment');
  const error = funder.sent.at(-1);
  assert.ok(error?.kind === 'error');
  assert.match(new TextDecoder().decode(error.data), /second_per_commitment_point/);
  void fundee;
});

test('the funding spent by a transaction the channel did not make: closed, and the monitor told', async () => {
  const { fundee } = await openToReady();
  await fundee.input({ kind: 'funding-spent', height: 520, txid: 'ab'.repeat(32) });
  assert.equal(fundee.state?.phase, 'closed');
  assert.deepEqual(fundee.state?.closure, { kind: 'funding-spent', spendingTxid: 'ab'.repeat(32) });
  const last = fundee.persisted.at(-1)?.steps[0];
  assert.ok(last?.kind === 'channel-closed' && !last.broadcastHolderCommitment);
  assert.equal(fundee.events.at(-1)?.type, 'ChannelClosed');
});

test('a fundee force-closing before its funding was ever seen: closed after the same 2016 blocks, not closing for ever', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  assert.equal(fundee.state?.phase, 'awaiting-confirmation');
  await fundee.input({ kind: 'force-close' });
  assert.equal(fundee.state?.phase, 'closing');
  assert.equal(fundee.broadcasts.length, 1, 'our commitment, in case the funder broadcast its funding');
  await fundee.input({ kind: 'block-connected', height: 500 + FUNDING_TIMEOUT_BLOCKS - 1 });
  assert.equal(fundee.state?.phase, 'closing');
  await fundee.input({ kind: 'block-connected', height: 500 + FUNDING_TIMEOUT_BLOCKS });
  assert.equal(fundee.state?.phase, 'closed');
  assert.deepEqual(fundee.state?.closure, { kind: 'funding-timed-out', blocks: FUNDING_TIMEOUT_BLOCKS });
  assert.equal(fundee.events.at(-1)?.type, 'ChannelClosed');
});
