/**
 * Claim feerates: bumped while a racing claim waits, faster near its deadline, each step at
 * least BIP 125's incremental relay fee; an output only the holder can spend is not bumped.
 * Run: node scripts/test.mjs packages/monitor/src/claims/fees.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  BUMP_EVERY_BLOCK_WITHIN,
  bumpCount,
  bumpedFeerate,
  claimDeadline,
  claimFeerate,
  INCREMENTAL_RELAY_PER_KW,
  TIMEOUT_CLAIM_WINDOW,
  URGENT_WITHIN,
} from './fees.ts';
import type { PendingOutput } from './types.ts';

const output = (o: Partial<PendingOutput>): PendingOutput => ({
  id: 'aa:0',
  source: 'revoked-commitment',
  txidHex: 'aa'.repeat(32),
  vout: 0,
  valueSat: 100_000n,
  output: 'to_local',
  spendableAtHeight: 101,
  ...o,
});

test('deadlines: a revoked output’s, an HTLC-success’s expiry, a timeout’s window; none for our own outputs', () => {
  assert.equal(claimDeadline(output({ deadlineHeight: 250 })), 250);
  assert.equal(
    claimDeadline(output({ source: 'holder-commitment', locktime: 300 })),
    300 + TIMEOUT_CLAIM_WINDOW,
  );
  assert.equal(
    claimDeadline(
      output({
        source: 'holder-commitment',
        htlc: {
          id: 0n,
          direction: 'received',
          amountMsat: 1n,
          paymentHash: new Uint8Array(32),
          cltvExpiry: 400,
        },
        htlcTransaction: { kind: 'htlc-success' } as PendingOutput['htlcTransaction'],
      }),
    ),
    400,
  );
  assert.equal(claimDeadline(output({ source: 'holder-commitment' })), undefined);
  assert.equal(claimDeadline(output({ source: 'counterparty-commitment', output: 'to_remote' })), undefined);
});

test('bumps come every 3 blocks far from the deadline and every block near it', () => {
  // First due at tip 100, deadline 200: far for 88 blocks.
  assert.equal(bumpCount(100, 100, 200), 0);
  assert.equal(bumpCount(100, 102, 200), 0);
  assert.equal(bumpCount(100, 103, 200), 1);
  assert.equal(bumpCount(100, 109, 200), 3);
  const near = 200 - BUMP_EVERY_BLOCK_WITHIN;
  const atNear = bumpCount(100, near - 1, 200);
  assert.equal(bumpCount(100, near, 200), atNear + 1);
  assert.equal(bumpCount(100, near + 5, 200), atNear + 6);
  // Past the deadline it is still a race: every block.
  assert.equal(bumpCount(100, 205, 200), bumpCount(100, 200, 200) + 5);
});

test('each bump adds a quarter, never less than the incremental relay fee', () => {
  assert.equal(bumpedFeerate(253n, 0), 253n);
  assert.equal(bumpedFeerate(253n, 1), 253n + INCREMENTAL_RELAY_PER_KW);
  assert.equal(bumpedFeerate(4_000n, 1), 5_000n);
  assert.equal(bumpedFeerate(4_000n, 2), 6_250n);
  let previous = 253n;
  for (let i = 1; i < 30; i++) {
    const f = bumpedFeerate(253n, i);
    assert.ok(f - previous >= INCREMENTAL_RELAY_PER_KW, `bump ${i}: ${previous} → ${f}`);
    previous = f;
  }
});

test('a claim’s feerate: the estimate at first, bumped while it waits, the urgent rate near the deadline', () => {
  const rates = { feeratePerKw: 1_000n, urgentFeeratePerKw: 3_000n };
  const justice = output({ deadlineHeight: 150, spendableAtHeight: 101 });
  assert.equal(claimFeerate([justice], 100, rates), 1_000n, 'first due at tip 100');
  assert.equal(claimFeerate([justice], 102, rates), 1_000n);
  assert.equal(claimFeerate([justice], 103, rates), 1_250n, 'unconfirmed 3 blocks: bumped');
  const beforeUrgent = 150 - URGENT_WITHIN - 1;
  assert.equal(
    claimFeerate([justice], beforeUrgent, rates),
    bumpedFeerate(1_000n, bumpCount(100, beforeUrgent, 150)),
  );
  const urgent = claimFeerate([justice], 150 - URGENT_WITHIN, rates);
  assert.equal(urgent, bumpedFeerate(3_000n, bumpCount(100, 150 - URGENT_WITHIN, 150)));
  // The earliest deadline of a shared claim decides.
  const later = output({ id: 'aa:1', deadlineHeight: 400, spendableAtHeight: 101 });
  assert.equal(claimFeerate([later, justice], 140, rates), claimFeerate([justice], 140, rates));
  // Our own to_local: the estimate, however long it waits.
  const own = output({ source: 'holder-commitment', spendableAtHeight: 101 });
  assert.equal(claimFeerate([own], 500, rates), 1_000n);
});
