import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectAll, selectCoins } from './coin-selection.ts';
import { WalletError } from './errors.ts';
import { dustLimitSat, feeForWeight, P2WPKH_INPUT_WEIGHT, transactionWeight } from './weights.ts';

const coin = (n: number, valueSat: bigint) => ({ key: `${n.toString(16).padStart(64, '0')}:0`, valueSat });
const P2WSH_BYTES = 34;
const base = { outputScriptBytes: [P2WSH_BYTES], feerateSatPerKw: 1000n, changeDustLimitSat: 294n };

test('weights: a 1-in 2-out P2WPKH/P2WSH transaction and the fee rounding up', () => {
  // 4 * (4 + 4 + 1 + 1) + 2 + 272 + (8+1+34)*4 + (8+1+22)*4 = 42 + 272 + 172 + 124
  assert.equal(transactionWeight(1, [34, 22]), 610);
  assert.equal(P2WPKH_INPUT_WEIGHT, 272);
  assert.equal(feeForWeight(610, 253n), 155n); // 154.33 rounded up
  assert.equal(feeForWeight(1000, 253n), 253n);
});

test("dust limits are Bitcoin Core's at 3 sat/vB", () => {
  assert.equal(dustLimitSat(new Uint8Array([0x00, 0x14, ...new Uint8Array(20)])), 294n);
  assert.equal(dustLimitSat(new Uint8Array([0x00, 0x20, ...new Uint8Array(32)])), 330n);
  assert.equal(dustLimitSat(new Uint8Array([0x51, 0x20, ...new Uint8Array(32)])), 330n);
  assert.equal(dustLimitSat(new Uint8Array(25).fill(0x76)), 546n);
});

test('largest coin first, with change when it is above dust', () => {
  const s = selectCoins({
    ...base,
    coins: [coin(1, 50_000n), coin(2, 2_000_000n), coin(3, 300_000n)],
    targetSat: 1_000_000n,
  });
  assert.deepEqual(
    s.inputs.map((c) => c.valueSat),
    [2_000_000n],
  );
  const fee = feeForWeight(transactionWeight(1, [34, 22]), 1000n);
  assert.equal(s.feeSat, fee);
  assert.equal(s.changeSat, 2_000_000n - 1_000_000n - fee);
  assert.equal(
    s.inputs.reduce((a, c) => a + c.valueSat, 0n),
    1_000_000n + s.feeSat + s.changeSat,
    'balances',
  );
});

test('several coins when one is not enough', () => {
  const s = selectCoins({
    ...base,
    coins: [coin(1, 600_000n), coin(2, 500_000n), coin(3, 10_000n)],
    targetSat: 1_000_000n,
  });
  assert.deepEqual(
    s.inputs.map((c) => c.valueSat),
    [600_000n, 500_000n],
  );
  assert.equal(s.feeSat, feeForWeight(transactionWeight(2, [34, 22]), 1000n));
});

test('change under its dust limit goes to the fee: no change output', () => {
  const feeNoChange = feeForWeight(transactionWeight(1, [34]), 1000n);
  // 100 sat over the changeless fee: a change output (124 wu + 294 dust) is not worth it.
  const s = selectCoins({
    ...base,
    coins: [coin(1, 1_000_000n + feeNoChange + 100n)],
    targetSat: 1_000_000n,
  });
  assert.equal(s.changeSat, 0n);
  assert.equal(s.feeSat, feeNoChange + 100n);
  assert.equal(s.weight, transactionWeight(1, [34]));
});

test('exactly enough for the changeless fee', () => {
  const feeNoChange = feeForWeight(transactionWeight(1, [34]), 1000n);
  const s = selectCoins({ ...base, coins: [coin(1, 1_000_000n + feeNoChange)], targetSat: 1_000_000n });
  assert.equal(s.changeSat, 0n);
  assert.equal(s.feeSat, feeNoChange);
});

test('insufficient funds names what was needed and what was available', () => {
  assert.throws(
    () => selectCoins({ ...base, coins: [coin(1, 400_000n), coin(2, 500_000n)], targetSat: 1_000_000n }),
    (e) => {
      assert.ok(e instanceof WalletError);
      assert.equal(e.code, 'insufficient-funds');
      const fee = feeForWeight(transactionWeight(2, [34]), 1000n);
      assert.deepEqual(e.details, { neededSat: 1_000_000n + fee, availableSat: 900_000n });
      assert.match(
        e.message,
        new RegExp(`needed ${1_000_000n + fee} sat .* available 900000 sat in 2 spendable coins`),
      );
      return true;
    },
  );
  assert.throws(() => selectCoins({ ...base, coins: [], targetSat: 1000n }), /available 0 sat in 0/);
});

test('sweep: every coin into one output, less the fee; dust is refused', () => {
  const coins = [coin(1, 10_000n), coin(2, 20_000n)];
  const s = selectAll({ coins, outputScriptBytes: 22, feerateSatPerKw: 2000n, outputDustLimitSat: 294n });
  assert.equal(s.inputs.length, 2);
  assert.equal(s.feeSat, feeForWeight(transactionWeight(2, [22]), 2000n));
  assert.equal(s.amountSat, 30_000n - s.feeSat);
  assert.throws(
    () =>
      selectAll({
        coins: [coin(1, 700n)],
        outputScriptBytes: 22,
        feerateSatPerKw: 2000n,
        outputDustLimitSat: 294n,
      }),
    (e) => e instanceof WalletError && e.code === 'insufficient-funds',
  );
  assert.throws(
    () => selectAll({ coins: [], outputScriptBytes: 22, feerateSatPerKw: 253n, outputDustLimitSat: 294n }),
    (e) => e instanceof WalletError && e.code === 'insufficient-funds',
  );
});
