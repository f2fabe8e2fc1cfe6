/**
 * The on-chain wallet: BIP 84 keys from the node's seed (keys.ts), the pure core that follows
 * the chain (wallet-state.ts), coin selection (coin-selection.ts), and the store. Each change
 * is durable (one atomic store transaction) before the call that made it resolves, so what a
 * crash leaves on disk is always a state the wallet was in: a block handled, a reservation
 * made, an address given out.
 *
 * Calls that change the wallet run one at a time, in call order (a block, a funding and an
 * address request arriving together never interleave). Reads (balance, listUnspent) answer
 * from memory at once.
 */

import type {
  BestBlock,
  BlockData,
  BlockHeaderData,
  Broadcaster,
  BroadcastResult,
  ChainListener,
  ListenerAtBlock,
} from '@lnkit/chain-sync';
import { type CryptoService, inThreadCrypto } from '@lnkit/crypto';
import { recordDb, type Store } from '@lnkit/store';
import { script as bscript, Transaction } from 'bitcoinjs-lib';
import { addressFromScript, scriptFromAddress } from './address.ts';
import { type Selection, selectAll, selectCoins } from './coin-selection.ts';
import { WalletError } from './errors.ts';
import { DEFAULT_GAP_LIMIT, EMPTY_KEYCHAIN, type KeychainState } from './keychain-state.ts';
import { AccountKeys, CHANGE, type Keychain, p2wpkhScript, p2wpkhScriptCode, RECEIVE } from './keys.ts';
import { type NetworkParams, networkParams, type RegtestPrefix, type WalletNetwork } from './network.ts';
import {
  keychainRecord,
  META_KEYS,
  outputRecord,
  reservationRecord,
  WALLET_DBS,
  walletAccountRecord,
  walletTipRecord,
} from './records.ts';
import {
  type ChainTip,
  type OwnedOutput,
  outpointKey,
  type Reservation,
  type WalletBalance,
  type WalletChanges,
  WalletState,
} from './wallet-state.ts';
import { CHANGE_SCRIPT_BYTES, dustLimitSat, WALLET_INPUT_SEQUENCE } from './weights.ts';

export interface WalletOptions {
  network: WalletNetwork;
  /** The bech32 prefix of regtest addresses: `bcrt` (Bitcoin Core, the default) or `rb` (bcoin). */
  regtestPrefix?: RegtestPrefix;
  /**
   * Where a new wallet starts following the chain (ignored when the store already holds the
   * wallet): the node passes its block source's tip on first start, since a new seed has no
   * history. Default: the network's genesis block (a full rescan; right on a short regtest).
   */
  birthday?: BestBlock;
  /** BIP 44 gap limit (default 20). */
  gapLimit?: number;
  /** Where signatures are made (default: in this thread). The private keys travel with each request. */
  crypto?: CryptoService;
}

export interface FundingRequest {
  /** The funding output's scriptPubKey (P2WSH of the 2-of-2). */
  outputScript: Uint8Array;
  amountSat: bigint;
  /** From the FeeEstimator; at least 253. */
  feerateSatPerKw: bigint;
  /** Coins with fewer confirmations are not spent (default 1). */
  minConfirmations?: number;
}

export interface SendRequest {
  /** Exactly one of outputScript and address. */
  outputScript?: Uint8Array;
  address?: string;
  /** An amount, or 'all': every spendable coin, less the fee (a sweep). */
  amountSat: bigint | 'all';
  feerateSatPerKw: bigint;
  minConfirmations?: number;
}

export interface BuiltTransaction {
  /** Signed, not broadcast. */
  tx: Transaction;
  /** Its coins stay reserved until the transaction confirms, or release(reservation). */
  reservation: Reservation;
  /** The index of the requested output in `tx`. */
  outputIndex: number;
  amountSat: bigint;
  feeSat: bigint;
  /** 0n when there is no change output (change under its dust limit goes to the fee). */
  changeSat: bigint;
}

/**
 * A wallet coin that a transaction the wallet does not build spends to pay its fee (the shape of
 * @lnkit/tx's FeeInput): the ChainMonitor's zero-fee anchors HTLC transactions, and the child
 * that bumps our anchors commitment.
 */
export interface FeeInputCoin {
  /** Internal byte order (as in a transaction input). */
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly valueSat: bigint;
  /** The key its P2WPKH output pays (every output of the wallet is one: BIP 84). */
  readonly pubkey: Uint8Array;
}

const SIGHASH_ALL = Transaction.SIGHASH_ALL;
/** bitcoind's "already in the block chain": the transaction is confirmed. */
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;
const MIN_FEERATE_SAT_PER_KW = 253n;
/** 1,000,000 sat/kw is 4,000 sat/vB: far above any real feerate; a larger one is a unit mistake. */
const MAX_FEERATE_SAT_PER_KW = 1_000_000n;
const MAX_MONEY_SAT = 21_000_000n * 100_000_000n;

export class Wallet implements ChainListener {
  readonly #keys: AccountKeys;
  readonly #state: WalletState;
  readonly #store: Store;
  readonly #crypto: CryptoService;
  readonly network: NetworkParams;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #failure: string | undefined;

  private constructor(
    store: Store,
    keys: AccountKeys,
    state: WalletState,
    network: NetworkParams,
    crypto: CryptoService,
  ) {
    this.#store = store;
    this.#keys = keys;
    this.#state = state;
    this.network = network;
    this.#crypto = crypto;
  }

  /**
   * Opens the wallet of `seed` in `store` (creating it on first use). A store that holds the
   * wallet of another seed or network is refused (`wrong-wallet`); a record written by a newer
   * lnkit in a form this one cannot read is StoreError `record-too-new`.
   */
  static async open(store: Store, seed: Uint8Array, options: WalletOptions): Promise<Wallet> {
    const network = networkParams(options.network, options.regtestPrefix);
    const keys = AccountKeys.fromSeed(seed, network);
    const meta = store.db(WALLET_DBS.meta);
    const accountBytes = meta.get(META_KEYS.account);
    const crypto = options.crypto ?? inThreadCrypto;
    const scriptAt = (chain: Keychain, index: number) => keys.script(chain, index);
    const gapLimit = options.gapLimit ?? DEFAULT_GAP_LIMIT;
    if (accountBytes === undefined) {
      const tip = options.birthday ?? { hashHex: network.genesisHashHex, height: 0 };
      if (!/^[0-9a-f]{64}$/.test(tip.hashHex) || !Number.isInteger(tip.height) || tip.height < 0)
        throw new WalletError(
          'invalid-argument',
          'birthday must be { hashHex: 64 lowercase hex, height: integer >= 0 }',
        );
      const state = new WalletState({ tip, scriptAt, gapLimit });
      await store.transaction((t) => {
        t.put(
          WALLET_DBS.meta,
          META_KEYS.account,
          walletAccountRecord.encode({
            network: network.name,
            path: keys.path,
            accountIdHex: keys.accountIdHex,
          }),
        );
        t.put(WALLET_DBS.meta, META_KEYS.tip, walletTipRecord.encode(tip));
        for (const chain of [RECEIVE, CHANGE])
          t.put(WALLET_DBS.meta, META_KEYS.keychain(chain), keychainRecord.encode(EMPTY_KEYCHAIN));
      });
      return new Wallet(store, keys, state, network, crypto);
    }
    const account = walletAccountRecord.decode(accountBytes);
    if (account.network !== network.name)
      throw new WalletError(
        'wrong-wallet',
        `the store holds a ${account.network} wallet; this node runs on ${network.name}`,
      );
    if (account.accountIdHex !== keys.accountIdHex || account.path !== keys.path)
      throw new WalletError(
        'wrong-wallet',
        `the store holds the wallet of another seed (account ${account.path} ${account.accountIdHex}, this seed's is ${keys.path} ${keys.accountIdHex}); refusing to mix them`,
      );
    const metaRecords = (codec: typeof keychainRecord, key: string): KeychainState => {
      const bytes = meta.get(key);
      return bytes === undefined ? EMPTY_KEYCHAIN : codec.decode(bytes);
    };
    const tipBytes = meta.get(META_KEYS.tip);
    if (tipBytes === undefined)
      throw new WalletError('wrong-wallet', 'the store holds a wallet account without its chain tip');
    const state = new WalletState({
      tip: walletTipRecord.decode(tipBytes),
      outputs: recordDb(store.db(WALLET_DBS.outputs), outputRecord)
        .entries()
        .map((e) => e.value),
      reservations: recordDb(store.db(WALLET_DBS.reservations), reservationRecord)
        .entries()
        .map((e) => e.value),
      keychains: [
        metaRecords(keychainRecord, META_KEYS.keychain(RECEIVE)),
        metaRecords(keychainRecord, META_KEYS.keychain(CHANGE)),
      ],
      scriptAt,
      gapLimit,
    });
    return new Wallet(store, keys, state, network, crypto);
  }

  // --- chain (guide steps 10 and 15) ---

  /** The ChainListener to give synchronizeListeners and subscribeListener (the wallet itself). */
  get listener(): ChainListener {
    return this;
  }

  /** The last block the wallet has handled (durably). */
  get bestBlock(): BestBlock {
    return { ...this.#state.tip };
  }

  /** For synchronizeListeners: the wallet and where it got to. */
  atBlock(): ListenerAtBlock {
    const tip = this.#state.tip;
    return { listener: this, bestBlockHash: tip.hashHex, bestBlockHeight: tip.height };
  }

  blockConnected(block: BlockData, height: number): Promise<void> {
    return this.#serial(async () => {
      const tip = this.#state.tip;
      if (height !== tip.height + 1 || block.header.prevHashHex !== tip.hashHex)
        throw new WalletError(
          'invalid-argument',
          `block ${block.header.hashHex} at height ${height} does not extend the wallet's tip ${tip.hashHex} at ${tip.height}`,
        );
      this.#state.connectBlock(block.txdata, height, block.header.hashHex);
      await this.#persist();
    });
  }

  blockDisconnected(header: BlockHeaderData, height: number): Promise<void> {
    return this.#serial(async () => {
      const tip = this.#state.tip;
      if (height !== tip.height || header.hashHex !== tip.hashHex)
        throw new WalletError(
          'invalid-argument',
          `block ${header.hashHex} at height ${height} is not the wallet's tip ${tip.hashHex} at ${tip.height}`,
        );
      this.#state.disconnectBlock(height, header.prevHashHex);
      await this.#persist();
    });
  }

  /**
   * A transaction seen unconfirmed (the mempool, or one broadcast): its outputs paying us
   * count as unconfirmed, the outputs of ours it spends as spent. True when it touches us.
   */
  async transactionSeen(tx: Transaction | Uint8Array): Promise<boolean> {
    const parsed = toTransaction(tx);
    return this.#serial(async () => {
      const relevant = this.#state.addUnconfirmed(parsed);
      await this.#persist();
      return relevant;
    });
  }

  /** Forgets an unconfirmed transaction that will never confirm; see WalletState.abandon. */
  abandonTransaction(txid: string): Promise<boolean> {
    return this.#serial(async () => {
      const known = this.#state.abandon(txid);
      await this.#persist();
      return known;
    });
  }

  // --- addresses ---

  /** A receive address (BIP 84, the network's bech32 prefix), durably given out. */
  async newAddress(): Promise<string> {
    return addressFromScript(await this.#newScript(RECEIVE), this.network);
  }

  /** A receive scriptPubKey for the embedded chain's `mine` to pay its coinbase to. */
  coinbaseScript(): Promise<Uint8Array> {
    return this.#newScript(RECEIVE);
  }

  /** The address text of a scriptPubKey on this network (witness scripts only). */
  addressOf(script: Uint8Array): string {
    return addressFromScript(script, this.network);
  }

  /** The BIP 32 path of the key a watched script pays (`m/84'/c'/a'/chain/index`): how a signer holding the seed checks it is ours. */
  pathOf(script: Uint8Array): string | undefined {
    const owner = this.#state.ownerOf(script);
    return owner && `${this.#keys.path}/${owner.keychain}/${owner.index}`;
  }

  /** True when the script is one of the wallet's watched scripts. */
  isMine(script: Uint8Array): boolean {
    return this.#state.ownerOf(script) !== undefined;
  }

  // --- coins ---

  balance(): WalletBalance {
    return this.#state.balance();
  }

  /** Unspent outputs (confirmed or not), largest first. */
  listUnspent(): OwnedOutput[] {
    return this.#state
      .allOutputs()
      .filter((o) => o.spentByTxid === undefined)
      .sort((a, b) => (a.valueSat === b.valueSat ? 0 : a.valueSat > b.valueSat ? -1 : 1));
  }

  reservations(): Reservation[] {
    return this.#state.allReservations();
  }

  /**
   * The coins a transaction the wallet does not build may spend to pay its fee, largest first,
   * each with its key for signInputSighash: confirmed, mature, not reserved for a transaction the
   * wallet built, and not spent in a block.
   *
   * Listing sets nothing aside. Once such a transaction reaches the wallet (through
   * trackBroadcasts, as the node's claims do) its coin counts as spent, and the wallet's own
   * fundings and sends no longer choose it; it is still listed, so that the claim, made again or
   * replaced at a higher feerate, spends the same coin: the replacement then takes the place
   * of the first in the wallet as it does in the mempool (a claim given another coin would leave
   * the first counted spent by a transaction gone from the mempool).
   */
  feeInputCoins(): FeeInputCoin[] {
    return this.#state
      .feeInputCandidates()
      .sort((a, b) => (a.valueSat === b.valueSat ? 0 : a.valueSat > b.valueSat ? -1 : 1))
      .map((o) => ({
        txid: Uint8Array.from(Buffer.from(o.txid, 'hex').reverse()),
        vout: o.vout,
        valueSat: o.valueSat,
        pubkey: this.#keys.publicKey(o.keychain, o.keyIndex),
      }));
  }

  /**
   * A 64-byte compact signature (RFC 6979, low S) of a BIP 143 `sighash` by the wallet key of
   * `pubkey`, for a wallet coin spent by a transaction someone else builds and sighashes (a
   * claim's fee input). The private key never leaves the wallet; a key that is not one of the
   * wallet's is refused (`not-mine`). Whatever sighash it is given is signed: hand this only to
   * what may spend the wallet's coins anyway.
   */
  async signInputSighash(pubkey: Uint8Array, sighash: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) throw new WalletError('closed', 'the wallet is closed');
    if (!(sighash instanceof Uint8Array) || sighash.length !== 32)
      throw new WalletError('invalid-argument', 'a sighash must be 32 bytes');
    if (!(pubkey instanceof Uint8Array) || pubkey.length !== 33)
      throw new WalletError('invalid-argument', 'a wallet key is a 33-byte compressed public key');
    const owner = this.#state.ownerOf(p2wpkhScript(pubkey));
    if (!owner)
      throw new WalletError(
        'not-mine',
        `public key ${Buffer.from(pubkey).toString('hex')} is not a key of this wallet: nothing signed`,
      );
    return this.#crypto.sign(sighash, this.#keys.privateKey(owner.keychain, owner.index));
  }

  /**
   * Builds and signs a transaction paying `amountSat` to `outputScript` (the funding output),
   * with change back to the wallet, and reserves its coins until it confirms or is released.
   * Not broadcast: the channel's funder broadcasts it only once the peer's funding_signed is in
   * and the monitor is durable (DESIGN.md's durability rule).
   */
  async fundingTransaction(request: FundingRequest): Promise<BuiltTransaction> {
    checkScript(request.outputScript, 'outputScript');
    checkAmount(request.amountSat, request.outputScript);
    checkFeerate(request.feerateSatPerKw);
    return this.#serial(() =>
      this.#build(request.outputScript, request.amountSat, request.feerateSatPerKw, request.minConfirmations),
    );
  }

  /** A payment (or, with amountSat 'all', a sweep) to a script or an address; see fundingTransaction. */
  async sendTransaction(request: SendRequest): Promise<BuiltTransaction> {
    if ((request.outputScript === undefined) === (request.address === undefined))
      throw new WalletError('invalid-argument', 'give exactly one of outputScript and address');
    const script = request.outputScript ?? scriptFromAddress(request.address as string, this.network);
    checkScript(script, 'outputScript');
    if (request.amountSat !== 'all') checkAmount(request.amountSat, script);
    checkFeerate(request.feerateSatPerKw);
    return this.#serial(() =>
      this.#build(script, request.amountSat, request.feerateSatPerKw, request.minConfirmations),
    );
  }

  /**
   * Frees the coins of a built transaction that will not be broadcast (its funding failed).
   * True when it was reserved. A transaction already seen by the network keeps its inputs
   * spent until it confirms or abandonTransaction() forgets it.
   */
  release(reservation: Reservation | string): Promise<boolean> {
    const txid = typeof reservation === 'string' ? reservation : reservation.txid;
    return this.#serial(async () => {
      const released = this.#state.release(txid);
      await this.#persist();
      return released;
    });
  }

  /**
   * Broadcasts a transaction the wallet built. Accepted: it is tracked as unconfirmed and its
   * txid returned. Rejected by the node (an RPC error code): its coins are released and
   * `broadcast-rejected` names the reason. Not sent (the source is down): `broadcast-failed`,
   * and its coins stay reserved (the Broadcaster sends it again).
   */
  async broadcast(tx: Transaction | Uint8Array, broadcaster: Broadcaster): Promise<string> {
    const parsed = toTransaction(tx);
    const txid = parsed.getId();
    const [result] = await broadcaster.broadcastTransactions([parsed.toBuffer()]);
    if (result && isAccepted(result)) {
      await this.transactionSeen(parsed);
      return txid;
    }
    const reason = result && !result.accepted ? result.reason : 'no answer';
    if (result && !result.accepted && result.rpcCode !== undefined) {
      await this.release(txid);
      throw new WalletError(
        'broadcast-rejected',
        `transaction ${txid} was rejected (${result.rpcCode}: ${reason}); its coins are released`,
      );
    }
    throw new WalletError(
      'broadcast-failed',
      `transaction ${txid} could not be sent (${reason}); its coins stay reserved`,
    );
  }

  /**
   * A Broadcaster that hands every transaction to `inner` and tracks those accepted as
   * unconfirmed: give it to the components that broadcast (the manager, the monitors), so
   * the wallet sees its own spends and change before they confirm.
   */
  trackBroadcasts(inner: Broadcaster): Broadcaster {
    return {
      broadcastTransactions: async (txs) => {
        const results = await inner.broadcastTransactions(txs);
        for (const [i, result] of results.entries()) {
          const raw = txs[i];
          if (raw && isAccepted(result)) await this.transactionSeen(raw);
        }
        return results;
      },
    };
  }

  /** Waits for the writes in flight; the store stays open (it is the node's). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => {});
  }

  toJSON(): { network: string; account: string; tip: ChainTip } {
    return { network: this.network.name, account: this.#keys.path, tip: this.#state.tip };
  }

  // --- internals ---

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new WalletError('closed', 'the wallet is closed'));
    const run = this.#queue.then(() => {
      if (this.#failure !== undefined)
        throw new WalletError(
          'store-failed',
          `the wallet stopped after a failed write (${this.#failure}); reopen it from the store`,
        );
      return fn();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #newScript(chain: Keychain): Promise<Uint8Array> {
    return this.#serial(async () => {
      const index = this.#state.nextIndex(chain);
      await this.#persist();
      return this.#keys.script(chain, index);
    });
  }

  async #build(
    outputScript: Uint8Array,
    amount: bigint | 'all',
    feerateSatPerKw: bigint,
    minConfirmations = 1,
  ): Promise<BuiltTransaction> {
    if (!Number.isInteger(minConfirmations) || minConfirmations < 1)
      throw new WalletError(
        'invalid-argument',
        `minConfirmations must be an integer >= 1; got ${minConfirmations}`,
      );
    const coins = this.#state
      .spendable(minConfirmations)
      .map((o) => ({ ...o, key: outpointKey(o.txid, o.vout) }));
    let selection: Selection<(typeof coins)[number]>;
    let amountSat: bigint;
    try {
      if (amount === 'all') {
        const all = selectAll({
          coins,
          outputScriptBytes: outputScript.length,
          feerateSatPerKw,
          outputDustLimitSat: dustLimitSat(outputScript),
        });
        selection = all;
        amountSat = all.amountSat;
      } else {
        selection = selectCoins({
          coins,
          targetSat: amount,
          outputScriptBytes: [outputScript.length],
          feerateSatPerKw,
          changeDustLimitSat: dustLimitSat(new Uint8Array(CHANGE_SCRIPT_BYTES)),
        });
        amountSat = amount;
      }
    } catch (err) {
      throw err instanceof WalletError && err.code === 'insufficient-funds'
        ? this.#explainShortfall(err)
        : err;
    }

    const outputs = [{ script: outputScript, valueSat: amountSat, requested: true }];
    if (selection.changeSat > 0n) {
      const changeIndex = this.#state.nextIndex(CHANGE);
      outputs.push({
        script: this.#keys.script(CHANGE, changeIndex),
        valueSat: selection.changeSat,
        requested: false,
      });
    }
    // BIP 69 order (inputs by txid as displayed, then index; outputs by value, then script), as
    // @lnkit/tx orders its funding transactions: the order says nothing about which is change.
    const inputs = [...selection.inputs].sort((a, b) =>
      a.txid === b.txid ? a.vout - b.vout : a.txid < b.txid ? -1 : 1,
    );
    outputs.sort((a, b) =>
      a.valueSat === b.valueSat ? Buffer.compare(a.script, b.script) : a.valueSat < b.valueSat ? -1 : 1,
    );

    const tx = new Transaction();
    tx.version = 2;
    // Anti fee sniping, as Bitcoin Core's wallet: valid in the next block only.
    tx.locktime = this.#state.tip.height;
    for (const input of inputs)
      tx.addInput(
        Uint8Array.from(Buffer.from(input.txid, 'hex').reverse()),
        input.vout,
        WALLET_INPUT_SEQUENCE,
      );
    for (const output of outputs) tx.addOutput(output.script, output.valueSat);
    await this.#sign(tx, inputs);

    const outputIndex = outputs.findIndex((o) => o.requested);
    const reservation: Reservation = {
      txid: tx.getId(),
      inputs: inputs.map((i) => i.key),
      rawTx: new Uint8Array(tx.toBuffer()),
      outputIndex,
      feeSat: selection.feeSat,
    };
    this.#state.reserve(reservation);
    await this.#persist();
    return {
      tx,
      reservation,
      outputIndex,
      amountSat,
      feeSat: selection.feeSat,
      changeSat: selection.changeSat,
    };
  }

  /** BIP 143 signatures for P2WPKH inputs; one batch, so a crypto pool crosses threads once. */
  async #sign(tx: Transaction, inputs: readonly OwnedOutput[]): Promise<void> {
    const requests = inputs.map((input, i) => {
      const script = this.#keys.script(input.keychain, input.keyIndex);
      return {
        digest: tx.hashForWitnessV0(i, p2wpkhScriptCode(script), input.valueSat, SIGHASH_ALL),
        privateKey: this.#keys.privateKey(input.keychain, input.keyIndex),
      };
    });
    const signatures = await this.#crypto.signBatch(requests);
    inputs.forEach((input, i) => {
      const signature = signatures[i];
      if (!signature) throw new WalletError('invalid-argument', `no signature for input ${i}`);
      tx.setWitness(i, [
        bscript.signature.encode(signature, SIGHASH_ALL),
        this.#keys.publicKey(input.keychain, input.keyIndex),
      ]);
    });
  }

  /** The selection's shortfall, with what else the wallet holds and why it cannot be spent. */
  #explainShortfall(err: WalletError): WalletError {
    const b = this.#state.balance();
    const held: string[] = [];
    if (b.reservedSat > 0n) held.push(`${b.reservedSat} sat reserved for pending fundings`);
    if (b.unconfirmedSat > 0n) held.push(`${b.unconfirmedSat} sat unconfirmed`);
    if (b.immatureSat > 0n) held.push(`${b.immatureSat} sat in immature coinbase outputs`);
    const more = held.length > 0 ? `; not spendable yet: ${held.join(', ')}` : '';
    return new WalletError('insufficient-funds', `${err.message}${more}`, err.details);
  }

  async #persist(): Promise<void> {
    const changes = this.#state.takeChanges();
    if (isEmpty(changes)) return;
    try {
      await this.#store.transaction((t) => {
        for (const [key, out] of changes.outputs) {
          if (out) t.put(WALLET_DBS.outputs, key, outputRecord.encode(out));
          else t.remove(WALLET_DBS.outputs, key);
        }
        for (const [txid, r] of changes.reservations) {
          if (r) t.put(WALLET_DBS.reservations, txid, reservationRecord.encode(r));
          else t.remove(WALLET_DBS.reservations, txid);
        }
        for (const [chain, state] of changes.keychains)
          t.put(WALLET_DBS.meta, META_KEYS.keychain(chain), keychainRecord.encode(state));
        if (changes.tip) t.put(WALLET_DBS.meta, META_KEYS.tip, walletTipRecord.encode(changes.tip));
      });
    } catch (err) {
      // Memory is now ahead of the disk: refuse everything until the wallet is reopened.
      this.#failure = (err as Error).message;
      throw new WalletError('store-failed', `the wallet could not write its state: ${this.#failure}`);
    }
  }
}

function isEmpty(c: WalletChanges): boolean {
  return c.outputs.size === 0 && c.reservations.size === 0 && c.keychains.size === 0 && c.tip === undefined;
}

function isAccepted(result: BroadcastResult): boolean {
  return result.accepted || result.rpcCode === RPC_VERIFY_ALREADY_IN_CHAIN;
}

function toTransaction(tx: Transaction | Uint8Array): Transaction {
  if (tx instanceof Transaction) return tx;
  if (!(tx instanceof Uint8Array))
    throw new WalletError('invalid-argument', 'a transaction must be bytes or a Transaction');
  try {
    return Transaction.fromBuffer(tx);
  } catch (err) {
    throw new WalletError('invalid-argument', `undecodable transaction: ${(err as Error).message}`);
  }
}

function checkScript(script: unknown, what: string): void {
  if (!(script instanceof Uint8Array) || script.length === 0 || script.length > 10_000)
    throw new WalletError('invalid-argument', `${what} must be a scriptPubKey of 1 to 10000 bytes`);
}

function checkAmount(amountSat: unknown, script: Uint8Array): void {
  if (typeof amountSat !== 'bigint' || amountSat <= 0n || amountSat > MAX_MONEY_SAT)
    throw new WalletError('invalid-argument', 'amountSat must be a bigint between 1 and 21e14 sat');
  const dust = dustLimitSat(script);
  if (amountSat < dust)
    throw new WalletError(
      'dust-output',
      `an output of ${amountSat} sat is under the dust limit of ${dust} sat for its script`,
    );
}

function checkFeerate(feerateSatPerKw: unknown): void {
  if (
    typeof feerateSatPerKw !== 'bigint' ||
    feerateSatPerKw < MIN_FEERATE_SAT_PER_KW ||
    feerateSatPerKw > MAX_FEERATE_SAT_PER_KW
  )
    throw new WalletError(
      'invalid-argument',
      `feerateSatPerKw must be a bigint from ${MIN_FEERATE_SAT_PER_KW} to ${MAX_FEERATE_SAT_PER_KW} sat/kw; got ${String(feerateSatPerKw)}`,
    );
}
