/**
 * The human-readable part (BOLT 11 "Human-Readable Part"): `ln` + currency prefix + an
 * optional amount in bitcoin with an optional multiplier. Amounts are bigint millisatoshi.
 */
import { InvoiceError } from './errors.ts';

export type Network = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/** BOLT 11: `lnbc` mainnet, `lntb` testnet, `lntbs` signet, `lnbcrt` regtest. */
export const NETWORK_PREFIX: Readonly<Record<Network, string>> = Object.freeze({
  bitcoin: 'bc',
  testnet: 'tb',
  signet: 'tbs',
  regtest: 'bcrt',
});
const BY_PREFIX = new Map(Object.entries(NETWORK_PREFIX).map(([n, p]) => [p, n as Network]));

/** Millisatoshi in one unit of the amount: bitcoin, then milli, micro, nano; pico is a tenth. */
const MSAT_PER_BTC = 100_000_000_000n;
const MULTIPLIER_MSAT: Readonly<Record<string, bigint>> = { m: 100_000_000n, u: 100_000n, n: 100n };
/** Lightning amounts are u64 msat (BOLT 2 `amount_msat` is a u64). */
export const MAX_AMOUNT_MSAT = 0xffff_ffff_ffff_ffffn;

export interface HumanReadablePart {
  readonly network: Network;
  /** Null: "amount is unspecified" (a donation, the payer chooses). */
  readonly amountMsat: bigint | null;
}

export function parseHrp(hrp: string): HumanReadablePart {
  if (!hrp.startsWith('ln'))
    throw new InvoiceError('unknown-prefix', `human-readable part "${hrp}" does not start with "ln"`);
  // Currency prefixes are letters and amounts start with a digit, so the prefix is the run of
  // letters after "ln" (a multiplier never follows the prefix without digits before it).
  let i = 2;
  while (i < hrp.length && hrp.charCodeAt(i) >= 97 && hrp.charCodeAt(i) <= 122) i++;
  const prefix = hrp.slice(2, i);
  const network = BY_PREFIX.get(prefix);
  // BOLT 11: "if it does NOT understand the prefix: MUST fail the payment".
  if (!network) throw new InvoiceError('unknown-prefix', `unknown currency prefix "ln${prefix}"`);
  const amount = hrp.slice(i);
  return { network, amountMsat: amount === '' ? null : parseAmount(amount) };
}

function parseAmount(text: string): bigint {
  const m = /^([0-9]+)([a-z]?)$/.exec(text);
  // BOLT 11: "if amount contains a non-digit OR is followed by anything except a multiplier:
  // MUST fail the payment".
  if (!m) throw new InvoiceError('invalid-amount', `amount "${text}" is not digits followed by a multiplier`);
  const digits = m[1]!;
  const multiplier = m[2]!;
  if (digits.length > 30) throw new InvoiceError('invalid-amount', `amount "${text}" is out of range`);
  const value = BigInt(digits);
  let msat: bigint;
  if (multiplier === '') msat = value * MSAT_PER_BTC;
  else if (multiplier === 'p') {
    // BOLT 11: "if multiplier is p and the last decimal of amount is not 0: MUST fail".
    if (value % 10n !== 0n)
      throw new InvoiceError('invalid-amount', `amount "${text}" is not a whole number of millisatoshi`);
    msat = value / 10n;
  } else {
    const per = MULTIPLIER_MSAT[multiplier];
    if (per === undefined)
      throw new InvoiceError('invalid-amount', `amount "${text}" has unknown multiplier "${multiplier}"`);
    msat = value * per;
  }
  if (msat === 0n) throw new InvoiceError('invalid-amount', `amount "${text}" is zero`);
  if (msat > MAX_AMOUNT_MSAT)
    throw new InvoiceError('invalid-amount', `amount "${text}" is over 2^64-1 msat`);
  return msat;
}

/**
 * The amount as the writer SHOULD write it: "the shortest representation possible, by using
 * the largest multiplier or omitting the multiplier".
 */
export function formatAmount(amountMsat: bigint): string {
  const pico = amountMsat * 10n;
  const units: [string, bigint][] = [
    ['', 1_000_000_000_000n],
    ['m', 1_000_000_000n],
    ['u', 1_000_000n],
    ['n', 1_000n],
  ];
  for (const [letter, perUnit] of units) if (pico % perUnit === 0n) return `${pico / perUnit}${letter}`;
  return `${pico}p`;
}

export function formatHrp(network: Network, amountMsat: bigint | null): string {
  const prefix = NETWORK_PREFIX[network];
  if (prefix === undefined) throw new InvoiceError('invalid-argument', `unknown network ${String(network)}`);
  if (amountMsat === null) return `ln${prefix}`;
  if (typeof amountMsat !== 'bigint' || amountMsat <= 0n || amountMsat > MAX_AMOUNT_MSAT)
    throw new InvoiceError('invalid-argument', 'amountMsat must be a bigint from 1 to 2^64-1, or null');
  return `ln${prefix}${formatAmount(amountMsat)}`;
}
