/**
 * The signer pool's ClaimSigner (the shape of @lnkit/tx's, which this package cannot import:
 * @lnkit/tx depends on it). The ChainMonitor's claims are signed in the pool's workers, where
 * the channel secrets are, under claim-policy.ts's rule: each request must carry the spend it
 * is for, and each output the wallet path of the key it pays, which this thread looks up (it
 * holds no secret) and the worker checks by deriving the key itself.
 */
import { Transaction } from 'bitcoinjs-lib';
import type { ClaimKeyName, ClaimSpend, PolicyClaimRequest } from './claim-policy.ts';
import { KeysError } from './errors.ts';
import type { SignerPoolTask } from './signer-pool-tasks.ts';

/** The BIP 32 path (m/84'/c'/a'/chain/index) of the wallet key a scriptPubKey pays, if it is the wallet's. */
export type WalletPathOf = (scriptPubKey: Uint8Array) => string | undefined;

export interface PooledClaimRequest {
  key: ClaimKeyName;
  sighash: Uint8Array;
  /** Required by the pool (absent: refused); optional in the interface other signers share. */
  spend?: ClaimSpend;
}

export class PooledClaimSigner {
  readonly #channelIndex: bigint;
  readonly #run: <T>(task: SignerPoolTask) => Promise<T>;
  readonly #walletPathOf: WalletPathOf;

  constructor(
    channelIndex: bigint,
    run: <T>(task: SignerPoolTask) => Promise<T>,
    walletPathOf: WalletPathOf,
  ) {
    this.#channelIndex = channelIndex;
    this.#run = run;
    this.#walletPathOf = walletPathOf;
  }

  async signClaims(requests: readonly PooledClaimRequest[]): Promise<Uint8Array[]> {
    if (requests.length === 0) return [];
    const paths = new Map<Uint8Array, (string | undefined)[]>();
    const policyRequests: PolicyClaimRequest[] = requests.map((r) => {
      if (!r.spend)
        throw new KeysError('claim-refused', 'the signer pool signs a claim only with the spend it is for');
      let outputPaths = paths.get(r.spend.tx);
      if (!outputPaths) {
        outputPaths = Transaction.fromBuffer(Buffer.from(r.spend.tx)).outs.map((o) =>
          this.#walletPathOf(new Uint8Array(o.script)),
        );
        paths.set(r.spend.tx, outputPaths);
      }
      return { key: r.key, sighash: r.sighash, spend: r.spend, outputPaths };
    });
    const signatures = await this.#run<Uint8Array>({
      op: 'sign-claim',
      channelIndex: this.#channelIndex,
      requests: policyRequests,
    });
    const out: Uint8Array[] = [];
    for (let at = 0; at < signatures.length; at += 64) out.push(signatures.slice(at, at + 64));
    return out;
  }

  toJSON(): { channelIndex: string } {
    return { channelIndex: this.#channelIndex.toString() };
  }
}
