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
import type { ChannelMonitor, MonitorUpdateStep } from './types.ts';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

const refused = (code: string, extra?: (e: MonitorError) => boolean) => (e: unknown) =>
  e instanceof MonitorError && e.code === code && (extra?.(e) ?? true);

async function opened(options?: ConstructorParameters<typeof ChannelFixture>[0]) {
  const fx = new ChannelFixture(options);
  const { update } = await fx.initialUpdate();
  return { fx, monitor: createMonitor(update) };
}

const step = (m: ChannelMonitor, ...steps: MonitorUpdateStep[]) =>
  applyMonitorUpdate(m, { updateId: m.latestUpdateId + 1, steps });

test('the initial update makes a monitor at update 1 with both first commitments', async () => {
  const { fx, monitor } = await opened();
  assert.equal(monitor.latestUpdateId, 1);
  assert.equal(
    monitor.fundingKey,
    `${Buffer.from(fx.channel.fundingOutpoint.txid).reverse().toString('hex')}:1`,
  );
  assert.equal(monitor.holderCommitment.commitmentNumber, 0n);
  assert.equal(monitor.counterpartyCommitments.length, 1);
  assert.deepEqual(monitor.bestBlock, fx.bestBlock);
  assert.deepEqual(signerStateOf(monitor), {
    holderCommitmentNumber: 0n,
    revokedBelow: 0n,
    counterpartyCommitmentNumber: 0n,
  });
});

test('an update out of order is refused naming the expected and the given id, and changes nothing', async () => {
  const { fx, monitor } = await opened();
  const preimage = { type: 'payment-preimage', preimage: new Uint8Array(randomBytes(32)) } as const;
  assert.throws(
    () => applyMonitorUpdate(monitor, { updateId: 3, steps: [preimage] }),
    refused(
      'update-out-of-order',
      (e) => e.expected === 2 && e.got === 3 && /expected update 2, got 3/.test(e.message),
    ),
  );
  assert.throws(
    () => applyMonitorUpdate(monitor, { updateId: 1, steps: [preimage] }),
    refused('update-out-of-order', (e) => e.expected === 2 && e.got === 1),
  );
  assert.equal(monitor.preimages.length, 0);
  const { update } = await fx.initialUpdate();
  assert.throws(
    () => createMonitor({ ...update, updateId: 2 }),
    refused('update-out-of-order', (e) => e.expected === 1 && e.got === 2),
  );
  assert.throws(() => step(monitor, ...update.steps), refused('invalid-update'));
  assert.throws(() => applyMonitorUpdate(monitor, { updateId: 2, steps: [] }), refused('invalid-update'));
});

test('a commitment whose txid is not its outputs’ transaction is refused', async () => {
  const fx = new ChannelFixture();
  const { update, holder } = await fx.initialUpdate();
  const initial = update.steps[0] as Extract<MonitorUpdateStep, { type: 'initial' }>;
  const txid = Uint8Array.from(holder.commitment.txid);
  txid[0] = (txid[0] as number) ^ 1;
  assert.throws(
    () =>
      createMonitor({
        updateId: 1,
        steps: [{ ...initial, holderCommitment: { ...holder.commitment, txid } }],
      }),
    refused('commitment-mismatch'),
  );
  const monitor = createMonitor(update);
  const next = await fx.counterpartyCommitment(1n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  const dropped = { ...next.commitment, outputs: next.commitment.outputs.slice(1) };
  assert.throws(
    () => step(monitor, { type: 'counterparty-commitment', commitment: dropped }),
    refused('commitment-mismatch'),
  );
});

test('counterparty commitments: the next number only, at most two unrevoked, the secret revokes the older', async () => {
  const { fx, monitor } = await opened();
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 290_000_000n, toRemoteMsat: 710_000_000n });
  const c2 = await fx.counterpartyCommitment(2n, { toLocalMsat: 280_000_000n, toRemoteMsat: 720_000_000n });
  assert.throws(
    () => step(monitor, { type: 'counterparty-commitment', commitment: c2.commitment }),
    refused('commitment-out-of-order'),
  );
  const m2 = step(monitor, { type: 'counterparty-commitment', commitment: c1.commitment });
  assert.deepEqual(
    m2.counterpartyCommitments.map((c) => c.commitmentNumber),
    [0n, 1n],
  );
  // BOLT 2: no third commitment before commitment 0 is revoked.
  assert.throws(
    () => step(m2, { type: 'counterparty-commitment', commitment: c2.commitment }),
    refused('commitment-out-of-order'),
  );
  const secret0 = await fx.counterpartySecret(0n);
  assert.throws(
    () =>
      step(m2, { type: 'commitment-secret', commitmentNumber: 0n, secret: new Uint8Array(randomBytes(32)) }),
    refused('bad-secret'),
  );
  assert.throws(
    () => step(m2, { type: 'commitment-secret', commitmentNumber: 1n, secret: secret0 }),
    refused('bad-secret'),
  );
  const m3 = step(m2, { type: 'commitment-secret', commitmentNumber: 0n, secret: secret0 });
  assert.deepEqual(
    m3.counterpartyCommitments.map((c) => c.commitmentNumber),
    [1n],
  );
  assert.deepEqual(revocationSecret(m3, 0n), secret0);
  assert.equal(revocationSecret(m3, 1n), undefined);
  assert.equal(m3.revokedCounterpartyHtlcs.length, 0, 'a revoked commitment without HTLCs is not kept');
  const m4 = step(m3, { type: 'counterparty-commitment', commitment: c2.commitment });
  assert.equal(signerStateOf(m4).counterpartyCommitmentNumber, 2n);
  assert.equal(m2.counterpartyCommitments.length, 2, 'the older monitor is unchanged');
});

test('a revoked counterparty commitment with HTLC outputs keeps its HTLCs for justice', async () => {
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
  assert.equal(c1.commitment.htlcs.find((h) => h.id === 4n)?.vout !== undefined, true);
  assert.equal(c1.commitment.htlcs.find((h) => h.id === 9n)?.vout, undefined, 'the 100-sat HTLC is trimmed');
  let m = step(monitor, { type: 'counterparty-commitment', commitment: c1.commitment });
  m = step(m, { type: 'commitment-secret', commitmentNumber: 0n, secret: await fx.counterpartySecret(0n) });
  const c2 = await fx.counterpartyCommitment(2n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  m = step(m, { type: 'counterparty-commitment', commitment: c2.commitment });
  m = step(m, { type: 'commitment-secret', commitmentNumber: 1n, secret: await fx.counterpartySecret(1n) });
  assert.equal(m.revokedCounterpartyHtlcs.length, 1);
  const kept = m.revokedCounterpartyHtlcs[0];
  assert.deepEqual(kept?.txid, c1.commitment.txid);
  assert.deepEqual(
    kept?.htlcs.map((h) => h.id),
    [4n],
  );
});

test('holder commitments: the next number only, the previous kept; HTLC signatures by output', async () => {
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
    () => step(monitor, { type: 'holder-commitment', commitment: h2.commitment }),
    refused('commitment-out-of-order'),
  );
  const m = step(monitor, { type: 'holder-commitment', commitment: h1.commitment });
  assert.equal(m.holderCommitment.commitmentNumber, 1n);
  assert.equal(m.previousHolderCommitment?.commitmentNumber, 0n);
  const held = m.holderCommitment.htlcs[0];
  assert.equal(held?.counterpartySignature?.length, 64);
  assert.equal(m.holderCommitment.outputs[held?.vout as number]?.kind, 'htlc');
  assert.deepEqual(signerStateOf(m), {
    holderCommitmentNumber: 1n,
    revokedBelow: 1n,
    counterpartyCommitmentNumber: 0n,
  });
});

test('preimages are kept once; after a force close commitments are refused, preimages still taken', async () => {
  const { fx, monitor } = await opened();
  const preimage = new Uint8Array(randomBytes(32));
  let m = step(monitor, { type: 'payment-preimage', preimage });
  m = step(m, { type: 'payment-preimage', preimage });
  assert.equal(m.preimages.length, 1);
  assert.deepEqual(preimageFor(m, sha256(preimage)), preimage);
  assert.equal(preimageFor(m, sha256(randomBytes(32))), undefined);
  m = step(m, { type: 'channel-force-closed', broadcastHolderCommitment: true });
  assert.deepEqual(m.closed, { broadcastHolderCommitment: true });
  const c1 = await fx.counterpartyCommitment(1n, { toLocalMsat: 300_000_000n, toRemoteMsat: 700_000_000n });
  assert.throws(
    () => step(m, { type: 'counterparty-commitment', commitment: c1.commitment }),
    refused('channel-closed'),
  );
  const later = step(m, { type: 'payment-preimage', preimage: new Uint8Array(randomBytes(32)) });
  assert.equal(later.preimages.length, 2);
  assert.equal(later.latestUpdateId, 5);
});
