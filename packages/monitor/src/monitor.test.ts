import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import type { CommitmentHtlc } from '@lnkit/tx';
import { MonitorError } from './errors.ts';
import {
  applyMonitorUpdate,
  createMonitor,
  preimageFor,
  revocationSecret,
  signerStateOf,
} from './monitor.ts';
import { ChannelFixture } from './test-fixtures.ts';
import type { ChannelMonitor, ChannelOpened, HolderCommitmentData, MonitorUpdateStep } from './types.ts';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

const refused = (code: string, extra?: (e: MonitorError) => boolean) => (e: unknown) =>
  e instanceof MonitorError && e.code === code && (extra?.(e) ?? true);

async function opened(options?: ConstructorParameters<typeof ChannelFixture>[0]) {
  const fx = new ChannelFixture(options);
  const { update } = await fx.initialUpdate();
  return { fx, monitor: createMonitor(update, fx.bestBlock) };
}

const step = (m: ChannelMonitor, ...steps: MonitorUpdateStep[]) =>
  applyMonitorUpdate(m, { channelId: m.channel.channelId, updateId: m.latestUpdateId + 1n, steps });

const preimageStep = (paymentPreimage: Uint8Array): MonitorUpdateStep => ({
  kind: 'payment-preimage',
  paymentPreimage,
});

test('the channel-opened update makes a monitor at update 1 with both first commitments', async () => {
  const { fx, monitor } = await opened();
  assert.equal(monitor.latestUpdateId, 1n);
  assert.equal(
    monitor.fundingKey,
    `${Buffer.from(fx.info.fundingOutpoint.txid).reverse().toString('hex')}:1`,
  );
  assert.equal(monitor.holderCommitment.commitmentNumber, 0n);
  assert.equal(monitor.counterpartyCommitments.length, 1);
  assert.deepEqual(monitor.bestBlock, fx.bestBlock);
  assert.equal(monitor.channel.holderToSelfDelay, 144, 'the delay the counterparty asked for');
  assert.equal(monitor.channel.counterpartyToSelfDelay, 120);
  assert.deepEqual(signerStateOf(monitor), {
    holderCommitmentNumber: 0n,
    revokedBelow: 0n,
    counterpartyCommitmentNumber: 0n,
  });
});

test('an update out of order is refused naming the expected and the given id, and changes nothing', async () => {
  const { fx, monitor } = await opened();
  const preimage = preimageStep(new Uint8Array(randomBytes(32)));
  const { channelId } = fx.info;
  assert.throws(
    () => applyMonitorUpdate(monitor, { channelId, updateId: 3n, steps: [preimage] }),
    refused(
      'update-out-of-order',
      (e) => e.expected === 2n && e.got === 3n && /expected update 2, got 3/.test(e.message),
    ),
  );
  assert.throws(
    () => applyMonitorUpdate(monitor, { channelId, updateId: 1n, steps: [preimage] }),
    refused('update-out-of-order', (e) => e.expected === 2n && e.got === 1n),
  );
  assert.equal(monitor.preimages.length, 0);
  const { update } = await fx.initialUpdate();
  assert.throws(
    () => createMonitor({ ...update, updateId: 2n }, fx.bestBlock),
    refused('update-out-of-order', (e) => e.expected === 1n && e.got === 2n),
  );
  assert.throws(() => step(monitor, ...update.steps), refused('invalid-update'));
  assert.throws(
    () => applyMonitorUpdate(monitor, { channelId, updateId: 2n, steps: [] }),
    refused('invalid-update'),
  );
  assert.throws(
    () => applyMonitorUpdate(monitor, { channelId: new Uint8Array(32), updateId: 2n, steps: [preimage] }),
    refused('invalid-update'),
  );
});

test('a commitment that is not its txid, or not a commitment of this funding, is refused', async () => {
  const fx = new ChannelFixture();
  const { update, holder } = await fx.initialUpdate();
  const first = update.steps[0] as ChannelOpened;
  const withHolder = (holderCommitment: HolderCommitmentData) =>
    createMonitor({ ...update, steps: [{ ...first, holderCommitment }] }, fx.bestBlock);
  const { txid } = holder.commitment;
  const otherTxid = `${txid.slice(0, 63)}${txid.endsWith('0') ? '1' : '0'}`;
  assert.throws(() => withHolder({ ...holder.commitment, txid: otherTxid }), refused('commitment-mismatch'));
  assert.throws(
    () => withHolder({ ...holder.commitment, commitmentNumber: 5n }),
    refused('commitment-mismatch'),
  );
  assert.throws(
    () => withHolder({ ...holder.commitment, tx: new Uint8Array([1, 2, 3]) }),
    refused('commitment-mismatch'),
  );
  assert.throws(
    () => createMonitor({ ...update, steps: [{ ...first, commitmentNumberObscure: 1n }] }, fx.bestBlock),
    refused('invalid-update'),
  );
  assert.throws(
    () =>
      createMonitor({ ...update, steps: [{ ...first, fundingScript: new Uint8Array(71) }] }, fx.bestBlock),
    refused('invalid-update'),
  );
  const monitor = createMonitor(update, fx.bestBlock);
  const foreign = await new ChannelFixture().counterpartyCommitment(1n, {
    toLocalMsat: 300_000_000n,
    toRemoteMsat: 700_000_000n,
  });
  assert.throws(
    () => step(monitor, { kind: 'counterparty-commitment', commitment: foreign.commitment }),
    refused('commitment-mismatch'),
  );
});

test('counterparty commitments: the next number only, at most two unrevoked, the secret revokes the older', async () => {
  const { fx, monitor } = await opened();
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 290_000_000n, toRemoteMsat: 710_000_000n });
  const c2 = await fx.counterpartyCommitment(2n, { toLocalMsat: 280_000_000n, toRemoteMsat: 720_000_000n });
  assert.throws(
    () => step(monitor, { kind: 'counterparty-commitment', commitment: c2.commitment }),
    refused('commitment-out-of-order'),
  );
  const m2 = step(monitor, { kind: 'counterparty-commitment', commitment: c1.commitment });
  assert.deepEqual(
    m2.counterpartyCommitments.map((c) => c.commitmentNumber),
    [0n, 1n],
  );
  // BOLT 2: no third commitment before commitment 0 is revoked.
  assert.throws(
    () => step(m2, { kind: 'counterparty-commitment', commitment: c2.commitment }),
    refused('commitment-out-of-order'),
  );
  const secret0 = await fx.counterpartySecret(0n);
  assert.throws(
    () =>
      step(m2, { kind: 'commitment-secret', commitmentNumber: 0n, secret: new Uint8Array(randomBytes(32)) }),
    refused('bad-secret'),
  );
  assert.throws(
    () => step(m2, { kind: 'commitment-secret', commitmentNumber: 1n, secret: secret0 }),
    refused('bad-secret'),
  );
  const m3 = step(m2, { kind: 'commitment-secret', commitmentNumber: 0n, secret: secret0 });
  assert.deepEqual(
    m3.counterpartyCommitments.map((c) => c.commitmentNumber),
    [1n],
  );
  assert.deepEqual(revocationSecret(m3, 0n), secret0);
  assert.equal(revocationSecret(m3, 1n), undefined);
  assert.equal(m3.revokedCounterpartyHtlcs.length, 0, 'a revoked commitment without HTLCs is not kept');
  const m4 = step(m3, { kind: 'counterparty-commitment', commitment: c2.commitment });
  assert.equal(signerStateOf(m4).counterpartyCommitmentNumber, 2n);
  assert.equal(m2.counterpartyCommitments.length, 2, 'the older monitor is unchanged');
});

test('a revoked counterparty commitment with HTLCs keeps them for justice', async () => {
  const { fx, monitor } = await opened();
  const htlcs: CommitmentHtlc[] = [
    {
      direction: 'offered',
      amountMsat: 20_000_000n,
      paymentHash: sha256(randomBytes(32)),
      cltvExpiry: 500,
      id: 4n,
    },
    {
      direction: 'received',
      amountMsat: 100_000n,
      paymentHash: sha256(randomBytes(32)),
      cltvExpiry: 510,
      id: 9n,
    },
  ];
  const c1 = await fx.counterpartyCommitment(1n, {
    toLocalMsat: 280_000_000n,
    toRemoteMsat: 699_900_000n,
    htlcs,
  });
  assert.equal(c1.built.outputs.filter((o) => o.kind === 'htlc').length, 1, 'the 100-sat HTLC is trimmed');
  let m = step(monitor, { kind: 'counterparty-commitment', commitment: c1.commitment });
  m = step(m, { kind: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) });
  const c2 = await fx.counterpartyCommitment(2n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  m = step(m, { kind: 'counterparty-commitment', commitment: c2.commitment });
  m = step(m, { kind: 'commitment-secret', commitmentNumber: 1n, secret: await fx.counterpartySecret(1n) });
  assert.equal(m.revokedCounterpartyHtlcs.length, 1);
  const kept = m.revokedCounterpartyHtlcs[0];
  assert.equal(kept?.txid, c1.commitment.txid);
  assert.deepEqual(
    kept?.htlcs.map((h) => h.id),
    [4n, 9n],
  );
});

test('holder commitments: the next number only, the previous kept, with its HTLC signatures', async () => {
  const { fx, monitor } = await opened();
  const htlc: CommitmentHtlc = {
    direction: 'received',
    amountMsat: 30_000_000n,
    paymentHash: sha256(randomBytes(32)),
    cltvExpiry: 700,
    id: 0n,
  };
  const h1 = await fx.holderCommitment(1n, {
    toLocalMsat: 700_000_000n,
    toRemoteMsat: 270_000_000n,
    htlcs: [htlc],
  });
  const h2 = await fx.holderCommitment(2n, { toLocalMsat: 730_000_000n, toRemoteMsat: 270_000_000n });
  assert.throws(
    () => step(monitor, { kind: 'holder-commitment', commitment: h2.commitment }),
    refused('commitment-out-of-order'),
  );
  const m = step(monitor, { kind: 'holder-commitment', commitment: h1.commitment });
  assert.equal(m.holderCommitment.commitmentNumber, 1n);
  assert.equal(m.previousHolderCommitment?.commitmentNumber, 0n);
  assert.equal(m.holderCommitment.htlcs?.length, 1);
  assert.equal(m.holderCommitment.htlcSignatures?.[0]?.length, 64);
  assert.deepEqual(signerStateOf(m), {
    holderCommitmentNumber: 1n,
    revokedBelow: 1n,
    counterpartyCommitmentNumber: 0n,
  });
});

test('preimages are kept once; after a close commitments are refused, preimages still taken', async () => {
  const { fx, monitor } = await opened();
  const preimage = new Uint8Array(randomBytes(32));
  let m = step(monitor, preimageStep(preimage));
  m = step(m, preimageStep(preimage));
  assert.equal(m.preimages.length, 1);
  assert.deepEqual(preimageFor(m, sha256(preimage)), preimage);
  assert.equal(preimageFor(m, sha256(randomBytes(32))), undefined);
  m = step(m, { kind: 'channel-closed', reason: 'holder-force-closed', broadcastHolderCommitment: true });
  assert.deepEqual(m.closed, { reason: 'holder-force-closed', broadcastHolderCommitment: true });
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  assert.throws(
    () => step(m, { kind: 'counterparty-commitment', commitment: c1.commitment }),
    refused('channel-closed'),
  );
  const later = step(m, preimageStep(new Uint8Array(randomBytes(32))));
  assert.equal(later.preimages.length, 2);
  assert.equal(later.latestUpdateId, 5n);
});
