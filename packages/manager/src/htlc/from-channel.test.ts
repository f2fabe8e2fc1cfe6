/**
 * Normal operation started from channels the establishment machine opened: the commitments
 * the ledger builds at number 0 are the ones both sides signed while opening, and a payment
 * then goes through with the signers the channels were opened with.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openToReady } from '../test-fixtures.ts';
import { buildCommitment, commitmentSpec } from './build.ts';
import { normalFromChannel } from './from-channel.ts';
import { HtlcNode, preimageOf, pump } from './test-harness.ts';

for (const type of ['static_remotekey', 'anchors_zero_fee_htlc_tx'] as const) {
  test(`from a ready channel (${type}): the same first commitments, then a payment`, async () => {
    const { funder, fundee } = await openToReady({
      type: { type, scidAlias: false },
      pushMsat: 200_000_000n,
    });
    assert.equal(funder.state?.phase, 'ready');
    const a = new HtlcNode('A', funder.signer);
    const b = new HtlcNode('B', fundee.signer);
    a.other = b;
    b.other = a;
    for (const [node, side] of [
      [a, funder],
      [b, fundee],
    ] as const) {
      const st = side.state;
      assert.ok(st?.commitments);
      node.state = normalFromChannel(st);
      const s = node.state;
      const holder = buildCommitment(
        s.params,
        commitmentSpec(s.ledger, 'local'),
        0n,
        s.commitments.holder.perCommitmentPoint,
      );
      const counterparty = buildCommitment(
        s.params,
        commitmentSpec(s.ledger, 'remote'),
        0n,
        s.commitments.counterparty.perCommitmentPoint,
      );
      assert.equal(holder.tx.getId(), st.commitments.holder.txid);
      assert.equal(counterparty.tx.getId(), st.commitments.counterparty.txid);
      assert.equal(s.nextMonitorUpdateId, st.nextMonitorUpdateId);
    }
    await a.add(50_000_000n, preimageOf(1));
    await a.input({ kind: 'commit' });
    await pump(a, b);
    await b.input({ kind: 'fulfill-htlc', id: 0n, paymentPreimage: preimageOf(1) });
    await b.input({ kind: 'commit' });
    await pump(a, b);
    assert.deepEqual([...a.failures, ...b.failures], []);
    assert.deepEqual(b.balances(), { toLocalMsat: 250_000_000n, toRemoteMsat: 750_000_000n });
    assert.deepEqual(a.balances(), { toLocalMsat: 750_000_000n, toRemoteMsat: 250_000_000n });
    // The monitor update ids continue from the channel's.
    assert.equal(a.persisted[0]?.updateId, funder.state?.nextMonitorUpdateId);
  });
}
