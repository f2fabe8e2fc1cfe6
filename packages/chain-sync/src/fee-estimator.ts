/**
 * FeeEstimator (LDK guide step 1): a feerate per confirmation target, answered synchronously from
 * a cache that is refreshed in the background from bitcoind's estimatesmartfee.
 */
import type { Logger } from '@lnkit/runtime';
import { ChainSyncError } from './errors.ts';
import { type IntervalScheduler, timerScheduler } from './interval.ts';
import type { JsonRpc } from './rpc-client.ts';

export type ConfirmationTarget = 'background' | 'normal' | 'highPriority';

export interface FeeEstimator {
  /** Feerate in satoshis per 1000 weight units, never below 253 (see FEERATE_FLOOR_SAT_PER_KW). */
  feeratePerKw(target: ConfirmationTarget): bigint;
}

/**
 * BOLT 3 and bitcoind's default 1 sat/vB relay floor: 1000 sat/kvB / 4 = 250 sat/kw, rounded up
 * to 253 so that rounding in weight-to-vbyte conversion never lands under the relay minimum.
 */
export const FEERATE_FLOOR_SAT_PER_KW = 253n;

export interface BitcoindFeeEstimatorOptions {
  logger: Logger;
  refreshIntervalMs?: number;
  /** Real timers by default; a test passes its own to run refresh rounds by hand. */
  scheduler?: IntervalScheduler;
  /** estimatesmartfee conf_target per target (defaults: 144, 18, 6 blocks). */
  blocks?: Partial<Record<ConfirmationTarget, number>>;
  /** Used until (and whenever) the source has no estimate, e.g. on regtest. */
  fallbackPerKw?: Partial<Record<ConfirmationTarget, bigint>>;
}

const DEFAULT_BLOCKS: Record<ConfirmationTarget, number> = { background: 144, normal: 18, highPriority: 6 };
const DEFAULT_FALLBACK_PER_KW: Record<ConfirmationTarget, bigint> = {
  background: FEERATE_FLOOR_SAT_PER_KW,
  normal: 2000n,
  highPriority: 5000n,
};
const TARGETS: ConfirmationTarget[] = ['background', 'normal', 'highPriority'];

export class BitcoindFeeEstimator implements FeeEstimator {
  private readonly cache = new Map<ConfirmationTarget, bigint>();
  private rounds: { cancel(): void } | undefined;
  private readonly blocks: Record<ConfirmationTarget, number>;
  private readonly fallback: Record<ConfirmationTarget, bigint>;

  constructor(
    private readonly rpc: JsonRpc,
    private readonly options: BitcoindFeeEstimatorOptions,
  ) {
    this.blocks = { ...DEFAULT_BLOCKS, ...options.blocks };
    this.fallback = { ...DEFAULT_FALLBACK_PER_KW, ...options.fallbackPerKw };
  }

  feeratePerKw(target: ConfirmationTarget): bigint {
    const rate = this.cache.get(target) ?? this.fallback[target];
    return rate < FEERATE_FLOOR_SAT_PER_KW ? FEERATE_FLOOR_SAT_PER_KW : rate;
  }

  /** Asks the source for every target; a target without an estimate falls back. Never throws. */
  async refresh(): Promise<void> {
    for (const target of TARGETS) {
      try {
        const perKw = await this.estimate(
          this.blocks[target],
          target === 'highPriority' ? 'CONSERVATIVE' : 'ECONOMICAL',
        );
        if (perKw === undefined) this.cache.delete(target);
        else this.cache.set(target, perKw);
      } catch (err) {
        // Keep the last good value: a stale estimate beats none while the source is down.
        this.options.logger.warn(
          { url: this.rpc.url, target, code: err instanceof ChainSyncError ? err.code : 'unexpected' },
          `fee estimate from ${this.rpc.url} failed: ${(err as Error).message}; keeping the cached or fallback feerate`,
        );
      }
    }
  }

  start(): Promise<void> {
    this.rounds ??= (this.options.scheduler ?? timerScheduler).every(
      this.options.refreshIntervalMs ?? 60_000,
      () => this.refresh(),
    );
    return this.refresh();
  }

  stop(): void {
    this.rounds?.cancel();
    this.rounds = undefined;
  }

  /** sat/kw from estimatesmartfee, or undefined when the source has none. */
  private async estimate(blocks: number, mode: string): Promise<bigint | undefined> {
    const answer = await this.rpc.call<{ feerate?: number; errors?: string[]; fee?: number }>(
      'estimatesmartfee',
      [blocks, mode],
    );
    // bitcoind: { feerate: BTC/kvB, blocks } or { errors: [...], blocks }; bcoin's own RPC: { fee: -1 }.
    const btcPerKvB = answer?.feerate ?? answer?.fee;
    if (typeof btcPerKvB !== 'number' || !Number.isFinite(btcPerKvB) || btcPerKvB <= 0) return undefined;
    const satPerKvB = BigInt(Math.round(btcPerKvB * 1e8));
    // 1 vbyte = 4 weight units: sat/kvB / 4 = sat/kw.
    return satPerKvB / 4n;
  }
}
