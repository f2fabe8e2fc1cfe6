/**
 * The channel core without threads or sockets: a funder and a fundee core talking in memory
 * (test-fixtures.ts), every establishment transition to `ready`, the durability ordering
 * (persist before funding_signed, persist before the broadcast), a bad funding signature,
 * reorgs of the funding before channel_ready, and the fundee's 2016-block timeout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { Transaction } from '@lnkit/tx';
import { bytesEqual, type ChannelReady, type FundingSigned } from '@lnkit/wire';
import type { ChannelEffect } from './channel-state.ts';
import { channelConfig } from './config.ts';
import { accept, Chain, fakeFundingTx, openToReady, pair, pump } from './test-fixtures.ts';

const isSend = (kind: string) => (e: ChannelEffect) => e.kind === 'send' && e.message.kind === kind;
const isPersist = (e: ChannelEffect) => e.kind === 'persist-monitor';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

for (const type of ['static_remotekey', 'anchors_zero_fee_htlc_tx'] as const) {
  test(`${type}: funder and fundee go through every establishment phase to ready`, async () => {
    const { funder, fundee } = await pair({ type: { type, scidAlias: false }, pushMsat: 12_345_678n });
    assert.equal(funder.state?.phase, 'awaiting-accept');
    assert.deepEqual(funder.sentKinds(), ['open_channel']);
    const r = await accept(fundee);
    assert.ok(r.ok);
    assert.equal(fundee.state?.phase, 'awaiting-funding-created');
    await pump(funder, fundee);
    assert.deepEqual(funder.phases, [
      'awaiting-accept',
      'awaiting-funding-tx', // accept_channel checked, wallet asked
      'signing', // funding-built: signing the fundee's commitment
      'awaiting-funding-signed', // funding_created sent
      'awaiting-persist', // funding_signed checked, monitor persisting
      'awaiting-confirmation', // persisted: funding broadcast
    ]);
    assert.deepEqual(fundee.phases, [
      'awaiting-funding-created',
      'signing', // funding_created checked
      'awaiting-persist',
      'awaiting-confirmation', // persisted: funding_signed sent
    ]);
    assert.deepEqual(funder.sentKinds(), ['open_channel', 'funding_created']);
    assert.deepEqual(fundee.sentKinds(), ['accept_channel', 'funding_signed']);
    assert.equal(funder.broadcasts.length, 1);
    assert.equal(fundee.broadcasts.length, 0);

    // One monitor update each, and each side's holder commitment is the other's counterparty one.
    const [fu] = funder.persisted;
    const [eu] = fundee.persisted;
    assert.ok(fu && eu);
    const fo = fu.steps[0];
    const eo = eu.steps[0];
    assert.ok(fo?.kind === 'channel-opened' && eo?.kind === 'channel-opened');
    assert.equal(fu.updateId, 1n);
    assert.equal(fo.channelType, type);
    assert.ok(bytesEqual(fo.channelId, eo.channelId));
    assert.equal(fo.holderCommitment.txid, eo.counterpartyCommitment.txid);
    assert.equal(eo.holderCommitment.txid, fo.counterpartyCommitment.txid);
    assert.equal(fo.commitmentNumberObscure, eo.commitmentNumberObscure);
    assert.ok(fo.isFunder && !eo.isFunder);
    assert.equal(fo.channelKeyIndex, 0n);
    assert.equal(eo.channelKeyIndex, 7n);
    assert.ok(bytesEqual(fo.fundingTx ?? new Uint8Array(), funder.broadcasts[0] ?? new Uint8Array(1)));
    // The counterparty's signature in each monitor signs that side's holder commitment.
    for (const [u, signerSide] of [
      [fo, fundee],
      [eo, funder],
    ] as const) {
      const tx = Transaction.fromBuffer(Buffer.from(u.holderCommitment.tx));
      const sighash = tx.hashForWitnessV0(
        0,
        Buffer.from(u.fundingScript),
        u.fundingSat,
        Transaction.SIGHASH_ALL,
      );
      assert.ok(
        secp.verify(
          u.holderCommitment.counterpartySignature,
          sighash,
          signerSide.signer.pubkeys.fundingPubkey,
        ),
      );
    }
    assert.equal(fo.holderCommitment.toRemoteMsat, 12_345_678n);
    assert.equal(eo.holderCommitment.toLocalMsat, 12_345_678n);
    assert.ok(!JSON.stringify(fu, (_k, v) => (typeof v === 'bigint' ? String(v) : v)).includes('Secret'));

    // ChannelPending on both, same channel and funding outpoint.
    const pending = [funder, fundee].map((s) => s.events.find((e) => e.type === 'ChannelPending'));
    assert.ok(pending[0]?.type === 'ChannelPending' && pending[1]?.type === 'ChannelPending');
    assert.equal(
      pending[0].fundingTxid,
      Transaction.fromBuffer(Buffer.from(funder.broadcasts[0] as Uint8Array)).getId(),
    );
    assert.equal(pending[0].fundingTxid, pending[1].fundingTxid);

    // Two confirmations of three: no channel_ready yet; the third: both send it and are ready.
    const chain = new Chain([funder, fundee]);
    await chain.mine(2);
    assert.equal(fundee.state?.channelReadySent, false);
    await pump(funder, fundee);
    assert.equal(funder.state?.phase, 'awaiting-confirmation');
    await chain.mine(1);
    await pump(funder, fundee);
    assert.equal(funder.state?.phase, 'ready');
    assert.equal(fundee.state?.phase, 'ready');
    for (const s of [funder, fundee]) {
      const ready = s.events.find((e) => e.type === 'ChannelReady');
      assert.ok(ready?.type === 'ChannelReady');
      assert.equal(
        ready.shortChannelId,
        (501n << 40n) | (1n << 16n) | BigInt(s.state?.funding?.outpoint.vout ?? 0),
      );
      assert.equal(ready.channelType.type, type);
    }
    const fr = funder.events.find((e) => e.type === 'ChannelReady');
    assert.ok(fr?.type === 'ChannelReady');
    assert.equal(fr.localBalanceMsat, 1_000_000_000n - 12_345_678n);
    assert.equal(fr.remoteBalanceMsat, 12_345_678n);
    // The alias each sent is the one the other recorded, and never the real short_channel_id.
    assert.equal(funder.state?.remoteAlias, fundee.state?.localAlias);
    assert.equal(fundee.state?.remoteAlias, funder.state?.localAlias);
    assert.notEqual(funder.state?.localAlias, funder.state?.shortChannelId);
    // Both know the other's next per-commitment point (commitment 1), for the first update.
    assert.ok(
      bytesEqual(
        funder.state?.remoteNextPerCommitmentPoint ?? new Uint8Array(),
        await fundee.signer.getPerCommitmentPoint(1n),
      ),
    );
  });
}

test('the fundee sends funding_signed only after its monitor persist completed; in progress, it waits', async () => {
  const { funder, fundee } = await pair();
  fundee.persistAnswer = 'in-progress';
  await accept(fundee);
  await pump(funder, fundee);
  assert.equal(fundee.state?.phase, 'awaiting-persist');
  assert.equal(fundee.state?.pendingPersist?.inProgress, true);
  assert.deepEqual(
    fundee.sentKinds(),
    ['accept_channel'],
    'no funding_signed while the persist is in progress',
  );
  assert.equal(funder.state?.phase, 'awaiting-funding-signed');
  // A completion for another update id changes nothing.
  await fundee.complete(5n);
  assert.deepEqual(fundee.sentKinds(), ['accept_channel']);
  await fundee.complete(1n);
  assert.deepEqual(fundee.sentKinds(), ['accept_channel', 'funding_signed']);
  const persistAt = fundee.effectIndex(isPersist);
  const sendAt = fundee.effectIndex(isSend('funding_signed'));
  assert.ok(persistAt >= 0 && persistAt < sendAt, 'persist-monitor comes before funding_signed');
  await pump(funder, fundee);
  assert.equal(funder.broadcasts.length, 1);
});

test('the funder broadcasts only after its monitor persist completed; in progress, it waits', async () => {
  const { funder, fundee } = await pair();
  funder.persistAnswer = 'in-progress';
  await accept(fundee);
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'awaiting-persist');
  assert.equal(funder.broadcasts.length, 0, 'nothing broadcast while the persist is in progress');
  assert.equal(funder.events.length, 0);
  await funder.complete(1n);
  assert.equal(funder.broadcasts.length, 1);
  const persistAt = funder.effectIndex(isPersist);
  const broadcastAt = funder.effectIndex((e) => e.kind === 'broadcast');
  assert.ok(persistAt >= 0 && persistAt < broadcastAt, 'persist-monitor comes before the broadcast');
  assert.equal(funder.state?.phase, 'awaiting-confirmation');
});

test('a failed persist stops the channel: the fundee never signs, the funder never broadcasts', async () => {
  {
    const { funder, fundee } = await pair();
    fundee.persistAnswer = 'failed';
    await accept(fundee);
    await pump(funder, fundee);
    assert.equal(fundee.state?.phase, 'closed');
    assert.equal(fundee.state?.closure?.kind, 'persist-failed');
    assert.ok(!fundee.sentKinds().includes('funding_signed'));
    assert.equal(fundee.persisted.length, 1, 'no second update after a failed one');
    // The funder hears the error and gives its coins back.
    assert.equal(funder.state?.phase, 'closed');
    assert.equal(funder.releases, 1);
    assert.equal(funder.broadcasts.length, 0);
  }
  {
    const { funder, fundee } = await pair();
    funder.persistAnswer = 'failed';
    await accept(fundee);
    await pump(funder, fundee);
    assert.equal(funder.state?.phase, 'closed');
    assert.equal(funder.broadcasts.length, 0);
    assert.equal(funder.releases, 1);
    const closed = funder.events.find((e) => e.type === 'ChannelClosed');
    assert.ok(closed?.type === 'ChannelClosed' && closed.reason.kind === 'persist-failed');
    assert.equal(closed.reason.message, 'disk full');
  }
});

test('a funding_signed with a wrong signature fails the channel and nothing is broadcast', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  // Deliver accept_channel, let the funder send funding_created, and let the fundee answer.
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'awaiting-confirmation');
  // Again, with funding_signed tampered on its way.
  const { funder: f2, fundee: e2 } = await pair();
  await accept(e2);
  await f2.input({ kind: 'message', message: f2.inbox.shift() as never });
  await e2.input({ kind: 'message', message: e2.inbox.shift() as never });
  const signed = f2.inbox.shift() as FundingSigned;
  assert.equal(signed.kind, 'funding_signed');
  const bad = { ...signed, signature: Uint8Array.from(signed.signature) };
  bad.signature[5] = (bad.signature[5] as number) ^ 1;
  await f2.input({ kind: 'message', message: bad });
  assert.equal(f2.state?.phase, 'closed');
  assert.equal(f2.broadcasts.length, 0, 'nothing broadcast');
  assert.equal(f2.persisted.length, 0, 'no monitor for a channel that never had a valid signature');
  assert.equal(f2.releases, 1, "the wallet's coins are released");
  const error = f2.sent.at(-1);
  assert.ok(error?.kind === 'error');
  assert.match(new TextDecoder().decode(error.data), /signature/);
  const closed = f2.events.at(-1);
  assert.ok(closed?.type === 'ChannelClosed' && closed.reason.kind === 'protocol-violation');
  assert.equal(closed.reason.field, 'signature');
});

test('a high-S signature in funding_signed is refused too (BOLT 2: LOW-S-standard)', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never });
  const signed = funder.inbox.shift() as FundingSigned;
  const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
  let s = 0n;
  for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(signed.signature[i] as number);
  const highS = Uint8Array.from(signed.signature);
  let v = n - s;
  for (let i = 63; i >= 32; i--) {
    highS[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  await funder.input({ kind: 'message', message: { ...signed, signature: highS } });
  assert.equal(funder.state?.phase, 'closed');
  assert.equal(funder.broadcasts.length, 0);
});

test('a funding_created with a wrong signature is refused: no funding_signed, no monitor', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  const created = fundee.inbox.shift();
  assert.ok(created?.kind === 'funding_created');
  const sig = Uint8Array.from(created.signature);
  sig[0] = (sig[0] as number) ^ 1;
  await fundee.input({ kind: 'message', message: { ...created, signature: sig } });
  assert.equal(fundee.state?.phase, 'closed');
  assert.equal(fundee.persisted.length, 0);
  const error = fundee.sent.at(-1);
  assert.ok(error?.kind === 'error');
  assert.ok(
    bytesEqual(error.channelId, created.temporaryChannelId),
    'under the temporary id the funder knows',
  );
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'closed');
  assert.equal(funder.releases, 1);
});

test('a reorg of the funding before channel_ready: the channel waits, then is ready after the depth', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  const chain = new Chain([funder, fundee]);
  await chain.mine(2);
  assert.equal(chain.fundingAt, 501);
  // Both blocks replaced by three that do not carry the funding (it waits in the mempool).
  await chain.disconnect(2);
  chain.holdFunding = true;
  await chain.mine(3);
  await pump(funder, fundee);
  assert.equal(fundee.state?.confirmation, undefined);
  assert.equal(fundee.state?.channelReadySent, false, 'no channel_ready at depth 0, though 3 blocks passed');
  assert.equal(funder.state?.phase, 'awaiting-confirmation');
  // It confirms again, at 504: ready at 506.
  chain.holdFunding = false;
  await chain.mine(2);
  await pump(funder, fundee);
  assert.equal(fundee.state?.channelReadySent, false);
  await chain.mine(1);
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(fundee.state?.phase, 'ready');
  assert.equal(fundee.state?.shortChannelId !== undefined && fundee.state.shortChannelId >> 40n, 504n);
});

test('a reorg that only shortens the funding depth delays channel_ready by as much', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  const chain = new Chain([funder, fundee]);
  await chain.mine(2); // funding at 501, depth 2
  await chain.disconnect(1); // depth 1
  await chain.mine(1); // depth 2 again
  assert.equal(fundee.state?.channelReadySent, false);
  await chain.mine(1);
  assert.equal(fundee.state?.channelReadySent, true);
});

test('the fundee forgets a channel whose funding does not confirm within 2016 blocks; the funder does not', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  const chain = new Chain([funder, fundee]);
  chain.holdFunding = true;
  await chain.mine(2015);
  assert.equal(fundee.state?.phase, 'awaiting-confirmation');
  await chain.mine(1);
  assert.equal(fundee.state?.phase, 'closed');
  assert.equal(fundee.state?.closure?.kind, 'funding-timed-out');
  const closing = fundee.persisted.at(-1)?.steps[0];
  assert.ok(closing?.kind === 'channel-closed');
  assert.equal(closing.broadcastHolderCommitment, false, 'the funding never appeared: nothing to broadcast');
  assert.equal(fundee.persisted.at(-1)?.updateId, 2n);
  assert.equal(fundee.sent.at(-1)?.kind, 'error');
  assert.equal(funder.state?.phase, 'awaiting-confirmation');
});

test('channel_ready as LDK sends it: the short_channel_id alias TLV is recorded, a later one replaces it', async () => {
  const { funder, fundee } = await openToReady();
  const again: ChannelReady = {
    type: 36,
    kind: 'channel_ready',
    channelId: fundee.state?.channelId as Uint8Array,
    secondPerCommitmentPoint: await funder.signer.getPerCommitmentPoint(1n),
    shortChannelIdAlias: 0xabcdefn,
  };
  await fundee.input({ kind: 'message', message: again });
  assert.equal(fundee.state?.phase, 'ready');
  assert.equal(fundee.state?.remoteAlias, 0xabcdefn);
  // The alias we send is in the TLV LDK reads (type 1).
  const sent = funder.sent.find((m) => m.kind === 'channel_ready');
  assert.ok(sent?.kind === 'channel_ready');
  assert.equal(sent.shortChannelIdAlias, funder.state?.localAlias);
});

test('channel_ready before the funding was signed is a protocol violation', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await fundee.input({
    kind: 'message',
    message: {
      type: 36,
      kind: 'channel_ready',
      channelId: new Uint8Array(32),
      secondPerCommitmentPoint: await funder.signer.getPerCommitmentPoint(1n),
    },
  });
  assert.equal(fundee.state?.phase, 'closed');
  assert.equal(fundee.state?.closure?.kind, 'protocol-violation');
});

test('a disconnect before funding_signed forgets the channel and releases the funding; after, it is kept', async () => {
  {
    const { funder, fundee } = await pair();
    await accept(fundee);
    await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
    assert.equal(funder.state?.phase, 'awaiting-funding-signed');
    await funder.input({ kind: 'peer-disconnected' });
    await fundee.input({ kind: 'peer-disconnected' });
    assert.equal(funder.state?.phase, 'closed');
    assert.equal(funder.releases, 1);
    assert.equal(fundee.state?.phase, 'closed');
    assert.equal(fundee.state?.closure?.kind, 'disconnected-before-funding');
  }
  {
    const { funder, fundee } = await pair();
    await accept(fundee);
    await pump(funder, fundee);
    await funder.input({ kind: 'peer-disconnected' });
    await fundee.input({ kind: 'peer-disconnected' });
    assert.equal(funder.state?.phase, 'awaiting-confirmation');
    assert.equal(fundee.state?.phase, 'awaiting-confirmation');
  }
});

test('a peer error fails the channel; after the funding is out, the monitor is told to broadcast our commitment', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  await fundee.input({
    kind: 'message',
    message: {
      type: 17,
      kind: 'error',
      channelId: fundee.state?.channelId as Uint8Array,
      data: new TextEncoder().encode('bye'),
    },
  });
  // The funding may be on chain: a force close, `closing` until a block spends the funding.
  assert.equal(fundee.state?.phase, 'closing');
  assert.deepEqual(fundee.state?.closure, { kind: 'counterparty-error', message: 'bye' });
  const last = fundee.persisted.at(-1)?.steps[0];
  assert.ok(last?.kind === 'channel-closed' && last.broadcastHolderCommitment);
  assert.equal(fundee.broadcasts.length, 1, 'our commitment');
  assert.equal(fundee.sent.at(-1)?.kind, 'funding_signed', 'no error sent back for an error');
});

test('the funder waits for the depth the fundee asked; minimum_depth is configurable', async () => {
  const { funder, fundee, chain } = await openToReady({ fundeeConfig: channelConfig({ minimumDepth: 6 }) });
  assert.equal(chain.height, 506);
  assert.equal(funder.state?.minimumDepth, 6);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(fundee.state?.phase, 'ready');
  assert.equal(
    hex(funder.state?.channelId ?? new Uint8Array()),
    hex(fundee.state?.channelId ?? new Uint8Array(1)),
  );
});

test('the funding transaction the wallet returns must pay the 2-of-2 and have witness inputs only', async () => {
  const cases: [string, (script: Uint8Array, amountSat: bigint) => Uint8Array, RegExp][] = [
    ['wrong amount', (script, amount) => fakeFundingTx(script, amount - 1n), /does not pay funding_satoshis/],
    ['wrong script', (_script, amount) => fakeFundingTx(new Uint8Array(34).fill(9), amount), /does not pay/],
    [
      'an input without a witness',
      (script, amount) => {
        const tx = Transaction.fromBuffer(Buffer.from(fakeFundingTx(script, amount)));
        tx.setWitness(0, []);
        return new Uint8Array(tx.toBuffer());
      },
      /without a witness/,
    ],
    ['not a transaction', () => new Uint8Array([1, 2, 3]), /does not parse/],
  ];
  for (const [what, build, reason] of cases) {
    const { funder, fundee } = await pair();
    funder.fundingAnswer = build;
    await accept(fundee);
    await pump(funder, fundee);
    assert.equal(funder.state?.closure?.kind, 'funding-failed', what);
    assert.match(
      funder.state?.closure?.kind === 'funding-failed' ? funder.state.closure.message : '',
      reason,
      what,
    );
    assert.equal(funder.releases, 1, `${what}: coins released`);
    assert.equal(funder.broadcasts.length, 0);
    assert.ok(!funder.sentKinds().includes('funding_created'), what);
    assert.equal(fundee.state?.phase, 'closed', `${what}: the fundee heard the error`);
  }
  const { funder, fundee } = await pair();
  funder.fundingAnswer = 'fail';
  await accept(fundee);
  await pump(funder, fundee);
  assert.deepEqual(funder.state?.closure, { kind: 'funding-failed', message: 'not enough money' });
});
