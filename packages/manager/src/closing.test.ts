/**
 * Cooperative close and reestablish in the core, without threads or sockets: shutdown both
 * ways, closing_signed negotiation converging from either side, with fee_range and without it
 * (a peer that sends none is negotiated with by the "strictly between" rule), a bad closing
 * signature, no fee_range overlap; and channel_reestablish after a reconnect (channel_ready
 * retransmitted, a wrong secret refused, a close that resumes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secp } from '@lnkit/crypto';
import { buildLegacyClosingTransaction, closingSighash, p2wpkh, Transaction } from '@lnkit/tx';
import type { ChannelReestablish, ClosingSigned } from '@lnkit/wire';
import type { ChannelState } from './channel-state.ts';
import { closingFeeSat } from './closing.ts';
import { accept, Chain, disconnect, openToReady, pair, pump, reconnect, type Side } from './test-fixtures.ts';

const SCRIPT_A = p2wpkh(secp.publicKey(new Uint8Array(32).fill(1)));
const SCRIPT_B = p2wpkh(secp.publicKey(new Uint8Array(32).fill(2)));

async function readyPair(push = 100_000_000n) {
  const { funder, fundee, chain } = await openToReady({ pushMsat: push });
  funder.state = { ...(funder.state as ChannelState), localShutdownScript: SCRIPT_A };
  fundee.state = { ...(fundee.state as ChannelState), localShutdownScript: SCRIPT_B };
  return { funder, fundee, chain };
}

/** The closing transaction both broadcast: the same, signed by both funding keys. */
function checkClosingTx(funder: Side, fundee: Side): Transaction {
  assert.equal(funder.broadcasts.length, 2, 'funding and closing');
  assert.equal(fundee.broadcasts.length, 1, 'closing');
  const a = Transaction.fromBuffer(Buffer.from(funder.broadcasts[1] as Uint8Array));
  const b = Transaction.fromBuffer(Buffer.from(fundee.broadcasts[0] as Uint8Array));
  assert.equal(a.getId(), b.getId());
  assert.equal(a.toHex(), b.toHex(), 'the same witness too');
  const st = funder.state as ChannelState;
  const funding = st.funding as NonNullable<ChannelState['funding']>;
  const sighash = closingSighash(a, funding.script, st.fundingSat);
  const [, s1, s2] = a.ins[0]?.witness ?? [];
  const keys = [funder.signer.pubkeys.fundingPubkey, fundee.signer.pubkeys.fundingPubkey].sort(
    Buffer.compare,
  );
  for (const [der, key] of [
    [s1, keys[0]],
    [s2, keys[1]],
  ] as const) {
    assert.ok(der && key);
    const compact = derToCompact(der.subarray(0, der.length - 1));
    assert.ok(secp.verify(compact, sighash, key), 'each funding key signed it');
  }
  const outs = a.outs.map((o) => [Buffer.from(o.script).toString('hex'), BigInt(o.value)]);
  const fee = st.fundingSat - a.outs.reduce((t, o) => t + BigInt(o.value), 0n);
  assert.ok(
    outs.some(([s, v]) => s === Buffer.from(SCRIPT_B).toString('hex') && v === 100_000n),
    'the fundee gets its push',
  );
  assert.ok(
    outs.some(
      ([s, v]) => s === Buffer.from(SCRIPT_A).toString('hex') && v === st.fundingSat - 100_000n - fee,
    ),
  );
  return a;
}

function derToCompact(der: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  let i = 2;
  for (const half of [0, 1]) {
    const len = der[i + 1] as number;
    let v = der.subarray(i + 2, i + 2 + len);
    while (v.length > 32 && v[0] === 0) v = v.subarray(1);
    out.set(v, half * 32 + 32 - v.length);
    i += 2 + len;
  }
  return out;
}

for (const who of ['funder', 'fundee'] as const) {
  test(`a cooperative close started by the ${who}, with fee_range: shutdown both ways, one fee agreed, the same transaction broadcast by both`, async () => {
    const { funder, fundee } = await readyPair();
    const starter = who === 'funder' ? funder : fundee;
    await starter.input({ kind: 'close', feeratePerKw: 1000 });
    assert.equal(starter.state?.phase, 'shutdown');
    await pump(funder, fundee);
    const fundeeSent = fundee.sentKinds().slice(2);
    assert.deepEqual(funder.sentKinds().slice(2), ['channel_ready', 'shutdown', 'closing_signed']);
    assert.deepEqual(fundeeSent, ['channel_ready', 'shutdown', 'closing_signed']);
    const proposal = funder.sent.at(-1) as ClosingSigned;
    const answer = fundee.sent.at(-1) as ClosingSigned;
    assert.ok(proposal.feeRange, 'the funder sends a fee_range');
    assert.ok(answer.feeRange, 'so does the fundee');
    assert.equal(answer.feeSatoshis, proposal.feeSatoshis, 'the fundee takes the fee inside both ranges');
    assert.equal(
      answer.feeRange.maxFeeSatoshis,
      proposal.feeRange.maxFeeSatoshis,
      'its max is at least the funder’s',
    );
    for (const s of [funder, fundee]) assert.equal(s.state?.phase, 'closing');
    const tx = checkClosingTx(funder, fundee);
    assert.equal(funder.state?.close?.closingTxid, tx.getId());
    // Confirmed: closed, the monitor told, ChannelClosed with the initiator.
    for (const s of [funder, fundee]) {
      await s.input({ kind: 'closing-confirmed', height: 600 });
      assert.equal(s.state?.phase, 'closed');
      const closed = s.events.at(-1);
      assert.ok(closed?.type === 'ChannelClosed' && closed.reason.kind === 'cooperative');
      assert.equal(closed.reason.initiator, s === starter ? 'local' : 'remote');
      assert.equal(closed.reason.closingTxid, tx.getId());
      const last = s.persisted.at(-1)?.steps[0];
      assert.ok(last?.kind === 'channel-closed' && !last.broadcastHolderCommitment);
    }
  });
}

test('without fee_range on either side: the older negotiation, agreed on the funder’s fee', async () => {
  const { funder, fundee } = await readyPair();
  funder.stripFeeRange = fundee.stripFeeRange = true;
  await funder.input({ kind: 'close', feeratePerKw: 2000 });
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'closing', JSON.stringify(funder.state?.closure));
  assert.equal(fundee.state?.phase, 'closing', JSON.stringify(fundee.state?.closure));
  checkClosingTx(funder, fundee);
});

/** The fundee's signature of the closing transaction at `feeSat`, as a peer of its own would send it. */
function peerClosingSigned(
  funder: Side,
  fundee: Side,
  feeSat: bigint,
  feeRange?: ClosingSigned['feeRange'],
): ClosingSigned {
  const st = funder.state as ChannelState;
  const funding = st.funding as NonNullable<ChannelState['funding']>;
  const tx = buildLegacyClosingTransaction({
    fundingOutpoint: funding.outpoint,
    localMsat: 100_000_000n,
    remoteMsat: st.fundingSat * 1000n - 100_000_000n,
    localScriptPubKey: SCRIPT_B,
    remoteScriptPubKey: SCRIPT_A,
    localIsFunder: false,
    feeSat,
    dustLimitSat: 546n,
  });
  const key = fundee.keysManager.deriveChannelKeys(fundee.keyIndex).fundingSecret;
  return {
    type: 39,
    kind: 'closing_signed',
    channelId: st.channelId as Uint8Array,
    feeSatoshis: feeSat,
    signature: secp.sign(closingSighash(tx, funding.script, st.fundingSat), key),
    ...(feeRange ? { feeRange } : {}),
  };
}

test('a peer without fee_range asking more than the funder pays: the funder comes down strictly between, and they agree', async () => {
  const { funder, fundee } = await readyPair();
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  // The fundee's shutdown answer reaches the funder; its closing_signed is replaced by a scripted legacy peer's.
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never });
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  fundee.inbox.length = 0;
  const first = funder.sent.at(-1) as ClosingSigned;
  assert.equal(first.kind, 'closing_signed');
  const max = first.feeRange?.maxFeeSatoshis ?? 0n;
  await funder.input({ kind: 'message', message: peerClosingSigned(funder, fundee, max * 3n) });
  const second = funder.sent.at(-1) as ClosingSigned;
  assert.equal(second.kind, 'closing_signed');
  assert.ok(second.feeSatoshis > first.feeSatoshis && second.feeSatoshis < max * 3n, 'strictly between');
  assert.ok(second.feeSatoshis <= max, 'and within what the funder pays');
  // The peer takes it: the funder sees its own fee back and broadcasts.
  await funder.input({ kind: 'message', message: peerClosingSigned(funder, fundee, second.feeSatoshis) });
  assert.equal(funder.state?.phase, 'closing');
  assert.equal(funder.broadcasts.length, 2);
});

test('a legacy counter-proposal not strictly between the last two fees is refused', async () => {
  const { funder, fundee } = await readyPair();
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never });
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  fundee.inbox.length = 0;
  const first = funder.sent.at(-1) as ClosingSigned;
  const max = first.feeRange?.maxFeeSatoshis ?? 0n;
  await funder.input({ kind: 'message', message: peerClosingSigned(funder, fundee, max * 3n) });
  // Back up, out of the interval (first, 3 max).
  await funder.input({ kind: 'message', message: peerClosingSigned(funder, fundee, max * 4n) });
  // A failure once the funding is out is a force close: `closing` until the funding spend confirms.
  assert.equal(funder.state?.phase, 'closing');
  assert.equal(
    funder.state?.closure?.kind === 'protocol-violation' && funder.state.closure.field,
    'fee_satoshis',
  );
});

test('fee_range: a funder refuses a fee outside the overlap; no overlap is a warning and the negotiation waits', async () => {
  const { funder, fundee } = await readyPair();
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never });
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  fundee.inbox.length = 0;
  const first = funder.sent.at(-1) as ClosingSigned;
  const ours = first.feeRange as NonNullable<ClosingSigned['feeRange']>;
  const far = { minFeeSatoshis: ours.maxFeeSatoshis + 10n, maxFeeSatoshis: ours.maxFeeSatoshis + 100n };
  await funder.input({
    kind: 'message',
    message: peerClosingSigned(funder, fundee, ours.maxFeeSatoshis + 50n, far),
  });
  assert.equal(funder.state?.phase, 'negotiating');
  assert.equal(funder.sent.at(-1)?.kind, 'warning');
  // An overlap, but a fee outside it: MUST fail.
  const near = { minFeeSatoshis: ours.minFeeSatoshis, maxFeeSatoshis: ours.maxFeeSatoshis + 100n };
  await funder.input({
    kind: 'message',
    message: peerClosingSigned(funder, fundee, ours.maxFeeSatoshis + 50n, near),
  });
  assert.equal(funder.state?.phase, 'closing');
  assert.equal(
    funder.state?.closure?.kind === 'protocol-violation' && funder.state.closure.field,
    'fee_satoshis',
  );
});

test('a closing_signed whose signature is for other scripts fails the channel, and our commitment goes to the monitor', async () => {
  const { funder, fundee } = await readyPair();
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never });
  await funder.input({ kind: 'message', message: funder.inbox.shift() as never });
  fundee.inbox.length = 0;
  const good = peerClosingSigned(funder, fundee, 500n);
  const bad = { ...good, signature: Uint8Array.from(good.signature).fill(7, 10, 12) };
  await funder.input({ kind: 'message', message: bad });
  assert.equal(funder.state?.phase, 'closing');
  assert.equal(funder.broadcasts.length, 2, 'the funding, then our commitment (no closing transaction)');
  const last = funder.persisted.at(-1)?.steps[0];
  assert.ok(last?.kind === 'channel-closed' && last.broadcastHolderCommitment, 'a force close');
  assert.equal(funder.sent.at(-1)?.kind, 'error', 'the peer is told, after the broadcast');
});

test('the closing fee estimate follows the feerate and the scripts', () => {
  const c = {
    initiator: 'local' as const,
    localScript: SCRIPT_A,
    remoteScript: SCRIPT_B,
    shutdownSent: true,
    feeratePerKw: 1000,
  };
  // 4 × (4+1+36+1+4+1+4 + 31 + 31) + 224 = 676 weight; at 1000 sat/kw 676 sat, +2% and rounded up.
  assert.equal(closingFeeSat(c, 1000), 690n);
  assert.equal(closingFeeSat(c, 253), 175n);
});

test('reestablish after a reconnect: both send channel_reestablish first, then channel_ready again; still ready', async () => {
  const { funder, fundee } = await readyPair();
  await disconnect(funder, fundee);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(funder.state?.link, 'disconnected');
  await reconnect(funder, fundee);
  assert.equal(funder.sent.at(-1)?.kind, 'channel_reestablish');
  assert.equal(fundee.sent.at(-1)?.kind, 'channel_reestablish');
  const r = funder.sent.at(-1) as ChannelReestablish;
  assert.equal(r.nextCommitmentNumber, 1n);
  assert.equal(r.nextRevocationNumber, 0n);
  assert.deepEqual(r.yourLastPerCommitmentSecret, new Uint8Array(32));
  await pump(funder, fundee);
  assert.deepEqual(funder.sentKinds().slice(-2), ['channel_reestablish', 'channel_ready']);
  assert.deepEqual(fundee.sentKinds().slice(-2), ['channel_reestablish', 'channel_ready']);
  for (const s of [funder, fundee]) {
    assert.equal(s.state?.phase, 'ready');
    assert.equal(s.state?.link, 'connected');
  }
});

test('channel_ready due while the peer was away goes out after reestablish, not before', async () => {
  const { funder, fundee } = await pair();
  await accept(fundee);
  await pump(funder, fundee);
  const chain = new Chain([funder, fundee]);
  await disconnect(funder, fundee);
  await chain.mine(3);
  assert.equal(fundee.state?.channelReadySent, true);
  assert.ok(!fundee.sentKinds().includes('channel_ready'), 'nothing sent while disconnected');
  await reconnect(funder, fundee);
  await pump(funder, fundee);
  assert.deepEqual(fundee.sentKinds().slice(-2), ['channel_reestablish', 'channel_ready']);
  assert.equal(funder.state?.phase, 'ready');
  assert.equal(fundee.state?.phase, 'ready');
});

test('a channel_reestablish claiming a revocation we never made is refused; one from a newer state stops us broadcasting', async () => {
  {
    const { funder, fundee } = await readyPair();
    await disconnect(funder, fundee);
    await reconnect(funder, fundee);
    const theirs = funder.inbox.shift() as ChannelReestablish;
    await funder.input({
      kind: 'message',
      message: { ...theirs, yourLastPerCommitmentSecret: new Uint8Array(32).fill(1) },
    });
    assert.equal(
      funder.state?.closure?.kind === 'protocol-violation' && funder.state.closure.field,
      'your_last_per_commitment_secret',
    );
  }
  {
    const { funder, fundee } = await readyPair();
    await disconnect(funder, fundee);
    await reconnect(funder, fundee);
    const theirs = funder.inbox.shift() as ChannelReestablish;
    await funder.input({ kind: 'message', message: { ...theirs, nextRevocationNumber: 5n } });
    assert.equal(funder.state?.phase, 'closed');
    const last = funder.persisted.at(-1)?.steps[0];
    assert.ok(
      last?.kind === 'channel-closed' && !last.broadcastHolderCommitment,
      'our commitment would be revoked: not broadcast',
    );
  }
});

test('a close interrupted by a disconnect resumes after reestablish: shutdown again, negotiation restarted', async () => {
  const { funder, fundee } = await readyPair();
  await funder.input({ kind: 'close', feeratePerKw: 1000 });
  await fundee.input({ kind: 'message', message: fundee.inbox.shift() as never }); // shutdown in; fundee answers
  await disconnect(funder, fundee); // its shutdown is lost
  assert.equal(funder.state?.phase, 'shutdown');
  assert.equal(fundee.state?.phase, 'negotiating');
  await reconnect(funder, fundee);
  await pump(funder, fundee);
  assert.equal(funder.state?.phase, 'closing', JSON.stringify(funder.state?.closure));
  assert.equal(fundee.state?.phase, 'closing', JSON.stringify(fundee.state?.closure));
  checkClosingTx(funder, fundee);
});
