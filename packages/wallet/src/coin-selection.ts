/**
 * Coin selection, a pure function: which of the wallet's coins pay for some outputs at a
 * feerate, and whether there is change.
 *
 * Largest first: the fewest inputs, so the lowest fee now, at the price of leaving small coins
 * for later (a node funding channels spends large amounts, so that is the case that matters).
 * A coin is added until the inputs pay the outputs, the fee and a change output above its dust
 * limit; or, without change, until they pay the outputs and the fee with less left over than a
 * change output would cost plus its dust limit: that remainder goes to the fee.
 */
import { WalletError } from './errors.ts';
import { CHANGE_SCRIPT_BYTES, feeForWeight, transactionWeight } from './weights.ts';

export interface Coin {
  /** `txid:vout`, display-order txid. */
  readonly key: string;
  readonly valueSat: bigint;
}

export interface SelectionRequest<C extends Coin> {
  /** Spendable coins, in any order. */
  readonly coins: readonly C[];
  /** What the outputs pay, in total. */
  readonly targetSat: bigint;
  /** The scriptPubKey length of each output (not the change). */
  readonly outputScriptBytes: readonly number[];
  readonly feerateSatPerKw: bigint;
  /** A change output under this is left to the fee instead. */
  readonly changeDustLimitSat: bigint;
  readonly changeScriptBytes?: number;
}

export interface Selection<C extends Coin> {
  readonly inputs: readonly C[];
  readonly feeSat: bigint;
  /** 0n when there is no change output. */
  readonly changeSat: bigint;
  /** The estimated weight of the transaction (with its change output, if any). */
  readonly weight: number;
}

export function selectCoins<C extends Coin>(req: SelectionRequest<C>): Selection<C> {
  const changeBytes = req.changeScriptBytes ?? CHANGE_SCRIPT_BYTES;
  const sorted = [...req.coins].sort((a, b) =>
    a.valueSat === b.valueSat ? (a.key < b.key ? -1 : 1) : a.valueSat > b.valueSat ? -1 : 1,
  );
  const inputs: C[] = [];
  let totalSat = 0n;
  for (const coin of sorted) {
    inputs.push(coin);
    totalSat += coin.valueSat;
    const weightNoChange = transactionWeight(inputs.length, req.outputScriptBytes);
    const weightWithChange = transactionWeight(inputs.length, [...req.outputScriptBytes, changeBytes]);
    const feeWithChange = feeForWeight(weightWithChange, req.feerateSatPerKw);
    const changeSat = totalSat - req.targetSat - feeWithChange;
    if (changeSat >= req.changeDustLimitSat)
      return { inputs, feeSat: feeWithChange, changeSat, weight: weightWithChange };
    const feeNoChange = feeForWeight(weightNoChange, req.feerateSatPerKw);
    if (totalSat >= req.targetSat + feeNoChange)
      return { inputs, feeSat: totalSat - req.targetSat, changeSat: 0n, weight: weightNoChange };
  }
  const neededSat =
    req.targetSat +
    feeForWeight(transactionWeight(Math.max(1, inputs.length), req.outputScriptBytes), req.feerateSatPerKw);
  throw new WalletError(
    'insufficient-funds',
    `insufficient funds: needed ${neededSat} sat (${req.targetSat} sat of outputs and the fee at ${req.feerateSatPerKw} sat/kw), available ${totalSat} sat in ${inputs.length} spendable coins`,
    { neededSat, availableSat: totalSat },
  );
}

/**
 * Every coin into one output (a sweep): the output gets what is left after the fee. Throws
 * insufficient-funds when that is under `outputDustLimitSat`.
 */
export function selectAll<C extends Coin>(req: {
  coins: readonly C[];
  outputScriptBytes: number;
  feerateSatPerKw: bigint;
  outputDustLimitSat: bigint;
}): Selection<C> & { amountSat: bigint } {
  const totalSat = req.coins.reduce((sum, c) => sum + c.valueSat, 0n);
  const weight = transactionWeight(Math.max(1, req.coins.length), [req.outputScriptBytes]);
  const feeSat = feeForWeight(weight, req.feerateSatPerKw);
  const amountSat = totalSat - feeSat;
  if (req.coins.length === 0 || amountSat < req.outputDustLimitSat) {
    const neededSat = feeSat + req.outputDustLimitSat;
    throw new WalletError(
      'insufficient-funds',
      `insufficient funds to sweep: needed ${neededSat} sat (the fee at ${req.feerateSatPerKw} sat/kw and an output of at least ${req.outputDustLimitSat} sat), available ${totalSat} sat in ${req.coins.length} spendable coins`,
      { neededSat, availableSat: totalSat },
    );
  }
  return { inputs: [...req.coins], feeSat, changeSat: 0n, weight, amountSat };
}
