/**
 * A real Bitcoin full node for tests and the demo: bcoin 1.0.2 in regtest, in memory, inside this
 * process, with a bitcoind-style JSON-RPC (and REST subset) on a loopback port. It validates
 * scripts and signatures, so a transaction it accepts is a valid transaction.
 */

import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import {
  type BcoinAddress,
  type BcoinBlock,
  type BcoinCoin,
  type BcoinFullNode,
  type BcoinKeyRing,
  type BcoinMempoolEntry,
  type BcoinModule,
  type BcoinTX,
  type BcoinVerifyError,
  loadBcoin,
} from './bcoin.ts';
import { RpcErrorCode, TestChainError } from './errors.ts';
import { leaveOutBelowFloor } from './miner-floor.ts';
import { checkReplacement, directConflicts, requireReplaceable } from './replacement.ts';
import { serveRest } from './rest.ts';
import { newCookie, RpcServer } from './rpc-server.ts';

export interface TestChainOptions {
  /** Loopback port for the JSON-RPC; 0 (the default) lets the OS choose. */
  port?: number;
  rpcUser?: string;
  /** Random when not given. */
  rpcPassword?: string;
  /** When set, a bitcoind-style cookie (`__cookie__:<hex>`) is written there and accepted too. */
  cookieFile?: string;
  /** bcoin's own log level (it logs to the console): silent (default), error, warn, info, debug. */
  logLevel?: 'silent' | 'error' | 'warn' | 'info' | 'debug';
  /**
   * Keep the chain on disk in this folder (bcoin's LevelDB) so it survives a restart, as the
   * daemon's embedded chain must; in memory when absent (tests).
   */
  dataDir?: string;
}

export interface FundedOutput {
  /** Display-order hex, as bitcoind shows it. */
  txid: string;
  vout: number;
  valueSat: bigint;
  rawTx: Uint8Array;
}

/** bcoin regtest activates segwit (BIP 9 with its regtest window) only from this height. */
export const SEGWIT_ACTIVE_HEIGHT = 432;
/** Coinbase outputs can be spent 100 blocks after they were mined (consensus). */
const COINBASE_MATURITY = 100;
/** 10 sat/vB for the chain's own funding transactions: well above the 1 sat/vB relay floor. */
const FUNDING_FEE_RATE_SAT_PER_KVB = 10_000;

const LOG_LEVELS: Record<NonNullable<TestChainOptions['logLevel']>, string> = {
  silent: 'none',
  error: 'error',
  warn: 'warning',
  info: 'info',
  debug: 'debug',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isVerifyError(err: unknown): err is BcoinVerifyError {
  return err instanceof Error && (err as Partial<BcoinVerifyError>).type === 'VerifyError';
}

export class TestChain {
  readonly rpcUser: string;
  readonly rpcPassword: string;
  private readonly server: RpcServer;
  private readonly ownCoins = new Map<string, { hash: string; index: number }>();
  private queue: Promise<unknown> = Promise.resolve();
  private reorgCount = 0;
  private stopped = false;
  /** See setMinerFeerateFloor; undefined when blocks take every transaction bcoin would. */
  private minerFloorSatPerKw: number | undefined;

  private constructor(
    private readonly bcoin: BcoinModule,
    private readonly node: BcoinFullNode,
    private readonly key: BcoinKeyRing,
    options: TestChainOptions,
    cookie: { user: string; password: string } | undefined,
  ) {
    this.rpcUser = options.rpcUser ?? 'lnkit';
    this.rpcPassword = options.rpcPassword ?? randomBytes(16).toString('hex');
    this.server = new RpcServer({
      host: '127.0.0.1',
      port: options.port ?? 0,
      rpcUser: this.rpcUser,
      rpcPassword: this.rpcPassword,
      ...(cookie ? { cookie } : {}),
      call: (method, params) => this.rpc(method, params),
      rest: (path, query) =>
        serveRest(
          {
            call: (method, params) => this.rpc(method, params),
            activeChainFrom: (hash, count) => this.activeChainFrom(hash, count),
            hashAtHeight: async (height) => (await this.node.chain.getEntry(height))?.rhash(),
          },
          path,
          query,
        ),
    });
    // Every block template (mine, getblocktemplate) goes through assemble: the floor applies to all.
    const assemble = node.miner.assemble.bind(node.miner);
    node.miner.assemble = (attempt) => {
      assemble(attempt);
      if (this.minerFloorSatPerKw !== undefined)
        leaveOutBelowFloor(attempt, node.mempool, this.minerFloorSatPerKw);
    };
  }

  static async start(options: TestChainOptions = {}): Promise<TestChain> {
    const bcoin = loadBcoin();
    const node = new bcoin.FullNode({
      network: 'regtest',
      memory: options.dataDir === undefined,
      ...(options.dataDir !== undefined ? { prefix: options.dataDir } : {}),
      workers: false,
      listen: false,
      indexTX: true,
      logLevel: LOG_LEVELS[options.logLevel ?? 'silent'],
      logConsole: options.logLevel !== undefined && options.logLevel !== 'silent',
      logFile: false,
    });
    // bcoin's own HTTP server would bind its regtest port (48332) and checks only a password:
    // the test chain serves JSON-RPC itself (RpcServer), on a port the OS chooses.
    node.http.open = async () => {};
    node.http.close = async () => {};
    if (options.dataDir !== undefined) await node.ensure(); // creates the folders LevelDB needs
    await node.open();
    const cookie = options.cookieFile ? newCookie() : undefined;
    if (options.cookieFile && cookie) {
      await writeFile(options.cookieFile, `${cookie.user}:${cookie.password}`, { mode: 0o600 });
    }
    const chain = new TestChain(bcoin, node, bcoin.KeyRing.generate(true), options, cookie);
    try {
      await chain.server.start();
    } catch (err) {
      await node.close();
      throw err;
    }
    return chain;
  }

  get rpcUrl(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  /** Base of the bitcoind-compatible REST endpoints (`${restUrl}/block/<hash>.bin`). */
  get restUrl(): string {
    return `${this.rpcUrl}/rest`;
  }

  get port(): number {
    return this.server.port;
  }

  /** The chain's own coinbase/change script (P2PKH of a key held in memory). */
  get walletScriptPubKey(): Uint8Array {
    return new Uint8Array(this.addressScript(this.key.getAddress()));
  }

  async height(): Promise<number> {
    return this.node.chain.height;
  }

  /** Mines until segwit is active (height >= 432 on bcoin regtest). */
  async activateSegwit(): Promise<void> {
    const h = this.node.chain.height;
    if (h < SEGWIT_ACTIVE_HEIGHT) await this.mine(SEGWIT_ACTIVE_HEIGHT - h);
  }

  /** Mines `n` blocks (with the mempool's transactions) to `scriptPubKey` or to the chain's own key. */
  async mine(n: number, scriptPubKey?: Uint8Array): Promise<string[]> {
    if (!Number.isInteger(n) || n < 0)
      throw new TestChainError(RpcErrorCode.invalidParameter, `cannot mine ${n} blocks`);
    const address = scriptPubKey ? this.addressOf(scriptPubKey) : this.key.getAddress();
    const own = scriptPubKey === undefined;
    return this.serial(async () => {
      const hashes: string[] = [];
      for (let i = 0; i < n; i++) {
        const block = await this.node.miner.cpu.mineBlock(null, address);
        const entry = await this.node.chain.add(block);
        if (!entry) throw new TestChainError(RpcErrorCode.miscError, 'mined block was not connected');
        if (own) this.rememberCoinbase(block);
        hashes.push(entry.rhash());
      }
      return hashes;
    });
  }

  /**
   * Models a busy block market: from now on, mined blocks (mine, getblocktemplate) only take the
   * mempool transactions whose package feerate is at least `satPerKw` (sat per 1000 weight units,
   * Lightning's unit; × 4 for sat/kvB). The package feerate is the one bcoin's miner ranks by, the
   * higher of the transaction's own and that of it with all its mempool descendants, so a child
   * paying enough gets its parent mined (CPFP). Children of a transaction left out are left out
   * too. What is left out stays in the mempool. `undefined` or 0 mines normally again.
   */
  setMinerFeerateFloor(satPerKw: number | undefined): void {
    if (satPerKw !== undefined && !(Number.isFinite(satPerKw) && satPerKw >= 0)) {
      throw new TestChainError(
        RpcErrorCode.invalidParameter,
        `invalid miner feerate floor ${satPerKw} sat/kw`,
      );
    }
    this.minerFloorSatPerKw = satPerKw || undefined;
  }

  /**
   * Sends `amountSat` to `scriptPubKey` from the chain's own matured coinbase/change coins. The
   * transaction goes through the mempool's full validation and stays there (not mined).
   */
  fundScript(scriptPubKey: Uint8Array, amountSat: bigint): Promise<FundedOutput> {
    return this.serial(async () => {
      const funded = await this.buildFunding(scriptPubKey, amountSat);
      await this.acceptToMempool(Buffer.from(funded.rawTx).toString('hex'));
      for (const [key, outpoint] of funded.change) this.ownCoins.set(key, outpoint);
      return { txid: funded.txid, vout: funded.vout, valueSat: funded.valueSat, rawTx: funded.rawTx };
    });
  }

  /**
   * Builds and signs the transaction fundScript would send, without sending it: for tests of
   * rejections (tamper with it, or build two that spend the same coins).
   */
  signFunding(scriptPubKey: Uint8Array, amountSat: bigint): Promise<FundedOutput> {
    return this.serial(async () => {
      const { txid, vout, valueSat, rawTx } = await this.buildFunding(scriptPubKey, amountSat);
      return { txid, vout, valueSat, rawTx };
    });
  }

  /**
   * bitcoind's sendrawtransaction: resolves the txid or rejects with code -25/-26/-27 and the
   * reason. A transaction spending what mempool transactions spend replaces them under BIP 125
   * (replacement.ts), as in bitcoind up to version 27.
   */
  async sendRawTransaction(rawTxHex: string): Promise<string> {
    return this.serial(() => this.acceptToMempool(rawTxHex));
  }

  /**
   * Replaces the last `depth` blocks with `depth + 1` new (empty) blocks on a competing branch,
   * so the node really reorganises: the replaced blocks' transactions go back to the mempool.
   */
  async reorg(depth: number): Promise<string[]> {
    return this.serial(async () => {
      const tipHeight = this.node.chain.height;
      if (!Number.isInteger(depth) || depth < 1 || depth > tipHeight) {
        throw new TestChainError(
          RpcErrorCode.invalidParameter,
          `cannot reorg ${depth} blocks at height ${tipHeight}`,
        );
      }
      let prev = await this.node.chain.getEntry(this.node.chain.height - depth);
      if (!prev) throw new TestChainError(RpcErrorCode.miscError, 'fork point not found');
      // The replaced blocks' transactions, to put back into the mempool as bitcoind does (bcoin
      // skips that when its mempool happens to be empty at the disconnect).
      const replacedTxs: BcoinTX[] = [];
      for (let h = prev.height + 1; h <= this.node.chain.height; h++) {
        const entry = await this.node.chain.getEntry(h);
        const block = entry ? await this.node.chain.getBlock(entry.hash) : null;
        if (block) replacedTxs.push(...block.txs.slice(1));
      }
      const address = this.key.getAddress();
      const tag = ++this.reorgCount;
      const hashes: string[] = [];
      for (let i = 0; i <= depth; i++) {
        const job = await this.node.miner.cpu.createJob(prev, address);
        // Empty blocks: the mempool's transactions may spend outputs of the blocks being replaced.
        job.attempt.items = [];
        job.attempt.fees = 0;
        // A distinct coinbase so a replacement block never equals the block it replaces.
        job.attempt.coinbaseFlags = Buffer.from(`lnkit reorg ${tag}`, 'ascii');
        job.refresh();
        const block = await job.mineAsync();
        if (!block) throw new TestChainError(RpcErrorCode.miscError, 'mining a competing block failed');
        await this.node.chain.add(block);
        const entry = await this.node.chain.getEntry(block.hash('hex'));
        if (!entry) throw new TestChainError(RpcErrorCode.miscError, 'competing block was not stored');
        this.rememberCoinbase(block);
        hashes.push(entry.rhash());
        prev = entry;
      }
      if (this.node.chain.tip.rhash() !== hashes[hashes.length - 1]) {
        throw new TestChainError(RpcErrorCode.miscError, 'the competing branch did not become the tip');
      }
      for (const tx of replacedTxs) {
        if (this.node.mempool.hasEntry(tx.hash('hex'))) continue;
        // A transaction that no longer fits (e.g. spends a replaced coinbase) is dropped, as in bitcoind.
        await this.node.mempool.addTX(tx).catch(() => null);
      }
      return hashes;
    });
  }

  /**
   * Raw JSON-RPC passthrough to the node, with bitcoind's behaviour where bcoin differs:
   * sendrawtransaction reports mempool rejections, estimatesmartfee answers in bitcoind's shape.
   */
  async rpc(method: string, params: unknown[] = []): Promise<unknown> {
    if (this.stopped) throw new TestChainError(RpcErrorCode.inWarmup, 'test chain is stopped');
    if (method === 'sendrawtransaction') {
      if (typeof params[0] !== 'string')
        throw new TestChainError(RpcErrorCode.typeError, 'Expected type string for hexstring');
      return this.sendRawTransaction(params[0]);
    }
    if (method === 'estimatesmartfee') return this.estimateSmartFee(params);
    if (
      method === 'gettxout' &&
      params[2] !== false &&
      typeof params[0] === 'string' &&
      /^[0-9a-f]{64}$/.test(params[0]) &&
      typeof params[1] === 'number' &&
      this.node.mempool.isSpent(Buffer.from(params[0], 'hex').reverse().toString('hex'), params[1])
    ) {
      // bitcoind: with include_mempool (the default) an output a mempool transaction spends is
      // gone; bcoin still shows the chain's coin.
      return null;
    }
    const reply = await this.node.rpc.call({ method, params, id: 1 }, {});
    const one = Array.isArray(reply) ? reply[0] : reply;
    if (!one) throw new TestChainError(RpcErrorCode.internalError, 'empty reply');
    if (one.error) {
      if (method === 'getrawtransaction' && one.error.message === 'Transaction not found.') {
        // bitcoind's code and words for an unknown transaction.
        throw new TestChainError(
          RpcErrorCode.invalidAddressOrKey,
          'No such mempool or blockchain transaction',
        );
      }
      throw new TestChainError(one.error.code, one.error.message);
    }
    if ((method === 'getblockheader' || method === 'getblock') && isRecord(one.result)) {
      await this.markStale(one.result);
      // bitcoind shows `bits` as 8 hex digits (bcoin: a number) and the `nonce` (bcoin leaves it
      // out): clients rebuild the 80 header bytes from these fields.
      if (typeof one.result.bits === 'number') {
        one.result.bits = one.result.bits.toString(16).padStart(8, '0');
      }
      if (one.result.nonce === undefined && typeof one.result.hash === 'string') {
        const entry = await this.node.chain.getEntry(
          Buffer.from(one.result.hash, 'hex').reverse().toString('hex'),
        );
        if (entry) one.result.nonce = entry.nonce;
      }
      // bitcoind leaves nextblockhash out at the tip; bcoin sends null.
      if (one.result.nextblockhash === null) delete one.result.nextblockhash;
    }
    return one.result;
  }

  /** bitcoind shows `confirmations: -1` for a block off the active chain; bcoin counts it anyway. */
  private async markStale(block: Record<string, unknown>): Promise<void> {
    if (typeof block.hash !== 'string' || typeof block.height !== 'number') return;
    const main = await this.node.chain.getEntry(block.height);
    if (main?.rhash() !== block.hash) {
      block.confirmations = -1;
      delete block.nextblockhash;
    }
  }

  /** Stops only the HTTP JSON-RPC (the chain keeps running), as if bitcoind went away. */
  async stopRpc(): Promise<void> {
    await this.server.stop();
  }

  /** Serves the JSON-RPC again on the same port. */
  async startRpc(): Promise<void> {
    await this.server.start();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.server.stop();
    await this.queue.catch(() => {});
    await this.node.close();
  }

  // --- internals ---

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.stopped)
      return Promise.reject(new TestChainError(RpcErrorCode.inWarmup, 'test chain is stopped'));
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }

  private async buildFunding(
    scriptPubKey: Uint8Array,
    amountSat: bigint,
  ): Promise<FundedOutput & { change: [string, { hash: string; index: number }][] }> {
    if (amountSat <= 0n || amountSat > 21_000_000n * 100_000_000n) {
      throw new TestChainError(RpcErrorCode.invalidParameter, 'amountSat out of range');
    }
    const { MTX, Script } = this.bcoin;
    const coins: BcoinCoin[] = [];
    const spendHeight = this.node.chain.height + 1;
    for (const [k, { hash, index }] of this.ownCoins) {
      // node.getCoin sees the chain and the mempool: null when spent or reorged out.
      const coin = await this.node.getCoin(hash, index);
      if (!coin) {
        this.ownCoins.delete(k);
        continue;
      }
      if (coin.coinbase && spendHeight - coin.height < COINBASE_MATURITY) continue;
      coins.push(coin);
    }
    const mtx = new MTX();
    mtx.addOutput(Script.fromRaw(Buffer.from(scriptPubKey)), Number(amountSat));
    try {
      await mtx.fund(coins, { changeAddress: this.key.getAddress(), rate: FUNDING_FEE_RATE_SAT_PER_KVB });
    } catch (err) {
      throw new TestChainError(
        RpcErrorCode.walletInsufficientFunds,
        `insufficient funds in the test chain's wallet (mine at least ${COINBASE_MATURITY + 1} blocks first): ${(err as Error).message}`,
      );
    }
    mtx.sign(this.key);
    const tx = mtx.toTX();
    const target = Buffer.from(scriptPubKey);
    const ownScript = this.addressScript(this.key.getAddress());
    let vout = -1;
    const change: [string, { hash: string; index: number }][] = [];
    tx.outputs.forEach((out, i) => {
      const script = out.script.toRaw();
      if (vout < 0 && script.equals(target) && out.value === Number(amountSat)) vout = i;
      else if (script.equals(ownScript))
        change.push([`${tx.txid()}:${i}`, { hash: tx.hash('hex'), index: i }]);
    });
    return { txid: tx.txid(), vout, valueSat: amountSat, rawTx: new Uint8Array(tx.toRaw()), change };
  }

  private addressOf(scriptPubKey: Uint8Array): BcoinAddress {
    const address = this.bcoin.Address.fromScript(this.bcoin.Script.fromRaw(Buffer.from(scriptPubKey)));
    if (!address) {
      throw new TestChainError(
        RpcErrorCode.invalidAddressOrKey,
        'scriptPubKey is not a standard address script',
      );
    }
    return address;
  }

  private addressScript(address: BcoinAddress): Buffer {
    const { MTX } = this.bcoin;
    const probe = new MTX() as unknown as {
      addOutput(a: BcoinAddress, v: number): void;
      outputs: { script: { toRaw(): Buffer } }[];
    };
    probe.addOutput(address, 0);
    const out = probe.outputs[0];
    if (!out) throw new TestChainError(RpcErrorCode.internalError, 'no output');
    return out.script.toRaw();
  }

  private rememberCoinbase(block: BcoinBlock): void {
    const coinbase = block.txs[0];
    if (!coinbase) return;
    this.ownCoins.set(`${coinbase.txid()}:0`, { hash: coinbase.hash('hex'), index: 0 });
  }

  private async activeChainFrom(fromHashHex: string, count: number): Promise<string[]> {
    const start = await this.node.chain.getEntry(Buffer.from(fromHashHex, 'hex').reverse().toString('hex'));
    if (!start || !(await this.node.chain.isMainChain(start))) return [];
    const out: string[] = [];
    for (let h = start.height; h <= this.node.chain.height && out.length < count; h++) {
      const entry = await this.node.chain.getEntry(h);
      if (!entry) break;
      out.push(entry.rhash());
    }
    return out;
  }

  private async acceptToMempool(rawTxHex: string): Promise<string> {
    if (this.stopped) throw new TestChainError(RpcErrorCode.inWarmup, 'test chain is stopped');
    if (!/^([0-9a-fA-F]{2})+$/.test(rawTxHex)) {
      throw new TestChainError(RpcErrorCode.deserializationError, 'TX decode failed');
    }
    let tx: ReturnType<BcoinModule['TX']['fromRaw']>;
    try {
      tx = this.bcoin.TX.fromRaw(Buffer.from(rawTxHex, 'hex'));
    } catch {
      throw new TestChainError(RpcErrorCode.deserializationError, 'TX decode failed');
    }
    // bitcoind: a transaction already in the mempool is not an error, it returns its txid.
    if (this.node.mempool.hasEntry(tx.hash('hex'))) return tx.txid();
    const conflicts = directConflicts(this.node.mempool, tx);
    if (conflicts.length === 0) {
      await this.addToMempool(tx);
      return tx.txid();
    }
    // Every check comes before the first eviction, so a refused replacement changes nothing.
    const evicted = await this.prepareReplacement(tx, conflicts);
    for (const entry of evicted) this.node.mempool.evictEntry(entry);
    try {
      await this.addToMempool(tx);
    } catch (err) {
      // Only a bcoin check prepareReplacement does not repeat gets here (e.g. a witness before
      // segwit activation): put back what the replacement would have replaced.
      await this.restoreEntries(evicted);
      throw err;
    }
    return tx.txid();
  }

  /** bcoin's full mempool validation, with its rejections in bitcoind's words. */
  private async addToMempool(tx: BcoinTX): Promise<void> {
    const hash = tx.hash('hex');
    let missing: string[] | null;
    try {
      missing = await this.node.mempool.addTX(tx);
    } catch (err) {
      if (!isVerifyError(err)) throw new TestChainError(RpcErrorCode.miscError, (err as Error).message);
      throw rejection(err);
    }
    if (missing && missing.length > 0) {
      // bcoin keeps it as an orphan; bitcoind's RPC refuses a transaction with unknown inputs.
      if (this.node.mempool.hasOrphan(hash)) this.node.mempool.removeOrphan(hash);
      throw new TestChainError(RpcErrorCode.verifyError, 'bad-txns-inputs-missingorspent');
    }
  }

  /**
   * What bitcoind checks of a transaction that conflicts with mempool ones, in its order: the
   * checks bcoin makes before its double-spend test, BIP 125, then bcoin's contextual validation
   * (scripts, sequence locks, relay fee), which bitcoind also makes before it replaces anything.
   * Returns the mempool entries to evict, descendants first.
   */
  private async prepareReplacement(
    tx: BcoinTX,
    conflicts: BcoinMempoolEntry[],
  ): Promise<BcoinMempoolEntry[]> {
    const mempool = this.node.mempool;
    const [sane, reason] = tx.checkSanity();
    if (!sane) throw new TestChainError(RpcErrorCode.verifyRejected, reason);
    const lockFlags = this.bcoin.blockchain.common.lockFlags.STANDARD_LOCKTIME_FLAGS;
    if (!(await mempool.verifyFinal(tx, lockFlags))) {
      throw new TestChainError(RpcErrorCode.verifyRejected, 'non-final');
    }
    requireReplaceable(conflicts);
    const view = await mempool.getCoinView(tx);
    if (!tx.hasCoins(view))
      throw new TestChainError(RpcErrorCode.verifyError, 'bad-txns-inputs-missingorspent');
    const entry = this.bcoin.MempoolEntry.fromTX(tx, view, this.node.chain.height);
    const evicted = checkReplacement(mempool, entry, conflicts);
    try {
      await mempool.verify(entry, view);
    } catch (err) {
      if (!isVerifyError(err)) throw new TestChainError(RpcErrorCode.miscError, (err as Error).message);
      throw rejection(err);
    }
    return evicted;
  }

  /** Puts evicted entries back as they were, ancestors first (they were evicted descendants first). */
  private async restoreEntries(evicted: BcoinMempoolEntry[]): Promise<void> {
    const mempool = this.node.mempool;
    for (const entry of [...evicted].reverse()) {
      // addEntry adds the entry to its ancestors' descendant totals; its own totals start again
      // from itself, and its descendants, re-added after it, add themselves.
      entry.descFee = entry.deltaFee;
      entry.descSize = entry.size;
      await mempool.addEntry(entry, await mempool.getCoinView(entry.tx));
    }
  }

  /**
   * bitcoind's estimatesmartfee shape: `{ feerate (BTC/kvB), blocks }`, or `{ errors, blocks }`
   * when there is no estimate (bcoin answers `{ fee: -1 }` instead).
   */
  private estimateSmartFee(params: unknown[]): unknown {
    const target = params[0];
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 1 || target > 1008) {
      throw new TestChainError(
        RpcErrorCode.invalidParameter,
        'Invalid conf_target, must be between 1 and 1008',
      );
    }
    let satPerKvB = 0;
    try {
      satPerKvB = this.node.fees?.estimateFee(target, true) ?? 0;
    } catch {
      // bcoin throws for targets beyond what it tracks; bitcoind answers "no estimate" instead.
      satPerKvB = 0;
    }
    if (!satPerKvB || satPerKvB <= 0) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
    return { feerate: satPerKvB / 1e8, blocks: target };
  }
}

/** Maps a bcoin mempool VerifyError to bitcoind's RPC error (code and reject reason). */
function rejection(err: BcoinVerifyError): TestChainError {
  switch (err.reason) {
    case 'txn-already-known':
      return new TestChainError(RpcErrorCode.verifyAlreadyInChain, 'Transaction already in block chain');
    case 'bad-txns-inputs-spent':
      // Spends an output a mempool transaction already spends; bitcoind names it this way.
      return new TestChainError(RpcErrorCode.verifyRejected, 'txn-mempool-conflict');
    case 'mandatory-script-verify-flag':
      return new TestChainError(RpcErrorCode.verifyRejected, 'mandatory-script-verify-flag-failed');
    case 'non-mandatory-script-verify-flag':
      return new TestChainError(RpcErrorCode.verifyRejected, 'non-mandatory-script-verify-flag');
    default:
      return new TestChainError(RpcErrorCode.verifyRejected, err.reason || err.message);
  }
}

export function startTestChain(options?: TestChainOptions): Promise<TestChain> {
  return TestChain.start(options);
}
