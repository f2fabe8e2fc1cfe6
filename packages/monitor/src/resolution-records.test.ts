import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { StoreError } from '@lnkit/store';
import type { ResolutionState } from './claim-tracker.ts';
import { resolveCommitment } from './claims/resolve.ts';
import { applyMonitorUpdate, createMonitor } from './monitor.ts';
import { decodeMonitor, encodeMonitor } from './records.ts';
import { decodeResolution, encodeResolution } from './resolution-records.ts';
import { ChannelFixture } from './test-fixtures.ts';
import type { ChannelMonitor } from './types.ts';

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** A holder commitment with two HTLCs, resolved: HTLC transactions, keys and inputs of every kind it has. */
async function resolvedState(): Promise<{ state: ResolutionState; monitor: ChannelMonitor }> {
  const fx = new ChannelFixture();
  const first = await fx.initialUpdate();
  const htlcs = [
    {
      direction: 'offered' as const,
      amountMsat: 5_000_000n,
      paymentHash: sha256(new Uint8Array(32).fill(1)),
      cltvExpiry: 600,
      id: 0n,
    },
    {
      direction: 'received' as const,
      amountMsat: 6_000_000n,
      paymentHash: sha256(new Uint8Array(32).fill(2)),
      cltvExpiry: 610,
      id: 1n,
    },
  ];
  const ours = await fx.holderCommitment(1n, {
    toLocalMsat: 600_000_000n,
    toRemoteMsat: 389_000_000n,
    htlcs,
    feeratePerKw: 1000n,
  });
  let m = createMonitor(first.update, fx.bestBlock);
  m = applyMonitorUpdate(m, {
    channelId: fx.info.channelId,
    updateId: 2n,
    steps: [{ kind: 'holder-commitment', commitment: ours.commitment }],
  });
  const resolution = resolveCommitment(m, await ours.signed(), 200);
  const [spent, ...rest] = resolution.pending;
  assert.ok(spent);
  const state: ResolutionState = {
    resolution: {
      ...resolution,
      pending: [
        ...rest,
        // A revoked output's key, input and deadline, as a justice claim keeps them.
        {
          ...spent,
          id: `${'ab'.repeat(32)}:3`,
          source: 'revoked-commitment',
          deadlineHeight: 320,
          key: { kind: 'revocation', perCommitmentSecret: new Uint8Array(32).fill(7) },
          input: {
            txid: new Uint8Array(32).fill(9),
            vout: 3,
            valueSat: 1234n,
            witness: 'received-htlc-revocation',
            witnessScript: new Uint8Array([1, 2, 3]),
            pubkey: fx.holder.pubkeys.revocationBasepoint,
            csvDelay: 0,
            anchors: false,
          },
        },
      ],
      resolved: [
        {
          id: spent.id,
          spentByTxidHex: 'cd'.repeat(32),
          height: 201,
          byHolder: false,
          output: spent,
          paymentPreimage: new Uint8Array(32).fill(2),
        },
      ],
      notes: ['a note'],
    },
    destinationScript: new Uint8Array(22).fill(4),
    doneAtHeight: 207,
  };
  return { state, monitor: m };
}

test('a resolution reads back as written, HTLC transactions, keys, inputs and preimages included', async () => {
  const { state } = await resolvedState();
  assert.ok(
    state.resolution.pending.some((p) => p.htlcTransaction),
    'an HTLC transaction is kept',
  );
  assert.deepEqual(decodeResolution(encodeResolution(state)), state);
  const { doneAtHeight: _d, ...notDone } = state;
  assert.deepEqual(decodeResolution(encodeResolution(notDone)), notDone);
});

test('a monitor keeps its resolution in its record; a cut resolution record is a StoreError', async () => {
  const { state, monitor } = await resolvedState();
  const m = { ...monitor, resolution: state };
  assert.deepEqual(decodeMonitor(encodeMonitor(m)).resolution, state);
  const bytes = encodeResolution(state);
  assert.throws(() => decodeResolution(bytes.subarray(0, bytes.length - 5)), StoreError);
});
