/**
 * End to end, channels: two lnkitd on one bcoin regtest chain (A embeds it, B reaches it through
 * --bitcoind-rpc), driven only through lnkit-cli and the REST API. A's wallet is funded by
 * `mine`; A opens 1,000,000 sat to B with a push; once the funding has its depth both say
 * `ready`, with balances exact to the msat, and A's GET /v1/events (and B's `lnkit-cli events`)
 * carried ChannelPending and ChannelReady. Bad requests are refused naming what is wrong and the
 * node goes on. Both are SIGKILLed with the channel open and started again on their data dirs:
 * the same channel, ready again once they reestablish. A closes it cooperatively, and B closes
 * a second one: each closing transaction is confirmed by bcoin, and each wallet holds exactly
 * what it should, the funding and closing fees read from the transactions themselves. Last, a
 * static-remotekey channel that A force-closes: its commitment in a bcoin block.
 *
 * Every block after A's funding coinbases is mined to an address of nobody's, so the wallets
 * move only by the channels' transactions and by A's coinbases maturing (counted exactly).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '@lnkit/test-support';
import { address, Transaction } from 'bitcoinjs-lib';
import { CLI_POLL_MS, Daemon, eventStream, request, type StreamedEvent } from './daemon.ts';

interface Info {
  nodeId: string;
  blockHeight: number;
  listening: { host: string; port: number };
}
interface Balance {
  onchain: { confirmedSat: string; unconfirmedSat: string };
  lightning: { localMsat: string };
}
interface ChannelOut {
  channelId: string;
  peer: string;
  state: string;
  type: string;
  public: boolean;
  capacitySat: string;
  localBalanceMsat: string;
  remoteBalanceMsat: string;
  shortChannelId: string | null;
  fundingTxid: string | null;
  isFunder: boolean;
  confirmations: number;
  minimumDepth: number;
  closingTxid: string | null;
  closedReason: string | null;
}

const CLI = fileURLToPath(new URL('../../apps/lnkit-cli/bin/lnkit-cli.mjs', import.meta.url));
/** A valid node id (the public key of secret 2) that neither node knows. */
const NOBODY = '02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5';
/** Nobody's: a P2WPKH of twenty zero bytes, in bcoin's regtest bech32. Blocks mined here pay no wallet. */
const BURN = address.toBech32(Buffer.alloc(20), 0, 'rb');
/** bcoin regtest activates segwit at 432: the wallet's P2WPKH coins cannot be spent before. */
const SEGWIT_HEIGHT = 432;
const CHANNEL_SAT = 1_000_000n;
/** Not a whole number of sat: the msat are kept in the channel, rounded down on chain. */
const PUSH_MSAT = 123_456_789n;
const SECOND_PUSH_MSAT = 50_000_500n;
const THIRD_PUSH_MSAT = 200_000_000n;
/** BOLT 3 "Fee Calculation": a static-remotekey commitment without HTLCs weighs 724. */
const COMMITMENT_WEIGHT = 724n;

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-channels-'));
let a: Daemon;
let b: Daemon;
let ia: Info;
let ib: Info;
const followers: ChildProcess[] = [];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** The embedded chain's JSON-RPC (address and credentials in A's embedded-chain.json). */
async function chainRpc<T>(method: string, params: unknown[] = []): Promise<T> {
  const c = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  const r = await request(c.rpcUrl, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${c.rpcUser}:${c.rpcPassword}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  });
  const reply = (await r.json()) as { result: T; error: { message: string } | null };
  if (reply.error) throw new Error(`${method}: ${reply.error.message}`);
  return reply.result;
}

const burn = (blocks: number) => chainRpc<string[]>('generatetoaddress', [blocks, BURN]);
const tipHeight = () => chainRpc<number>('getblockcount');
const rawTx = async (txid: string) =>
  Transaction.fromHex(await chainRpc<string>('getrawtransaction', [txid, false]));
const outputsSat = (tx: Transaction) => tx.outs.reduce((s, o) => s + BigInt(o.value), 0n);

/** What a transaction's inputs held, each read from the transaction it spends. */
async function inputsSat(tx: Transaction): Promise<bigint> {
  let sum = 0n;
  for (const input of tx.ins) {
    const prev = await rawTx(Buffer.from(input.hash).reverse().toString('hex'));
    sum += BigInt(prev.outs[input.index]!.value);
  }
  return sum;
}

/** Waits until the chain's mempool holds `txid` (it was broadcast), so the next block takes it. */
const inMempool = (txid: string, what: string) =>
  waitFor(async () => (await chainRpc<string[]>('getrawmempool')).includes(txid) || undefined, {
    what,
    intervalMs: CLI_POLL_MS,
    timeoutMs: 120_000,
  });

/** bcoin regtest's block subsidy: 50 BTC, halved every 150 blocks. */
const subsidySat = (height: number) => 5_000_000_000n >> BigInt(Math.floor(height / 150));
/** A's coinbases (blocks first..last) spendable at `tip`: a coinbase of block h matures at h + 99. */
function maturedSat(first: number, last: number, tip: number): bigint {
  let sum = 0n;
  for (let h = first; h <= Math.min(last, tip - 99); h++) sum += subsidySat(h);
  return sum;
}

/** The blocks whose coinbases pay A's wallet. */
const paid = { first: 0, last: 0 };
/** What the channels moved in and out of each wallet, from the transactions (sat). */
const moved = { a: 0n, b: 0n };

const balance = (d: Daemon) => d.json<Balance>('balance');
const channels = (d: Daemon) => d.json<{ channels: ChannelOut[] }>('listchannels').channels;
const channelOf = (d: Daemon, channelId: string) => channels(d).find((c) => c.channelId === channelId);

function waitForChannel(d: Daemon, channelId: string, done: (c: ChannelOut) => boolean, what: string) {
  let last: ChannelOut | undefined;
  return waitFor(
    () => {
      last = channelOf(d, channelId);
      return last && done(last) ? last : undefined;
    },
    { what, intervalMs: CLI_POLL_MS, timeoutMs: 180_000 },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; the last listchannels entry: ${JSON.stringify(last)}`);
  });
}

/** Each wallet's confirmed balance is what it should hold: A's matured coinbases and both one's moves. */
async function walletsExact(what: string): Promise<void> {
  const tip = await tipHeight();
  const expectA = maturedSat(paid.first, paid.last, tip) + moved.a;
  const expectB = moved.b;
  let last: [Balance, Balance] | undefined;
  await waitFor(
    () => {
      last = [balance(a), balance(b)];
      return (
        (last[0].onchain.confirmedSat === expectA.toString() &&
          last[0].onchain.unconfirmedSat === '0' &&
          last[1].onchain.confirmedSat === expectB.toString() &&
          last[1].onchain.unconfirmedSat === '0') ||
        undefined
      );
    },
    { what, intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
  ).catch((e: Error) => {
    throw new Error(
      `${e.message}: A should hold ${expectA}, B ${expectB}; they hold ${JSON.stringify(last)}`,
    );
  });
}

/** `lnkit-cli --json events` on a node, its lines collected as they come. */
function followEvents(d: Daemon): { lines: Record<string, unknown>[]; stderr: () => string } {
  const proc = spawn(process.execPath, [CLI, '--datadir', d.dataDir, '--json', 'events'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  followers.push(proc);
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  proc.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    const parts = out.split('\n');
    out = parts.pop()!;
    for (const p of parts) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  return { lines, stderr: () => err };
}

before(async () => {
  // Fixed ports: B finds A's chain and A's peer port again after both restart.
  a = new Daemon(join(root, 'a'), [
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'debug',
    '--embedded-rpc-port',
    String(await freePort()),
  ]);
  await a.start();
  const chain = JSON.parse(readFileSync(join(a.dataDir, 'embedded-chain.json'), 'utf8'));
  b = new Daemon(join(root, 'b'), [
    '--listen',
    `127.0.0.1:${await freePort()}`,
    '--api',
    '127.0.0.1:0',
    '--log-level',
    'debug',
    '--bitcoind-rpc',
    chain.rpcUrl,
    '--bitcoind-rpcuser',
    chain.rpcUser,
    '--bitcoind-rpcpassword',
    chain.rpcPassword,
  ]);
  await b.start();
  ia = a.json<Info>('getinfo');
  ib = b.json<Info>('getinfo');
});

after(async () => {
  for (const p of followers) p.kill('SIGKILL');
  await b?.kill('SIGKILL');
  await a?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

describe('channels between two lnkitd on one chain', () => {
  let channelId = '';
  /** A's event stream, opened before the open. */
  let aEvents: Awaited<ReturnType<typeof eventStream>>;
  let bEvents: ReturnType<typeof followEvents>;

  test('A is funded: segwit active, 101 blocks mined to its wallet, the matured coinbases confirmed', {
    timeout: 300_000,
  }, async () => {
    // Blocks to nobody until the last 101 before segwit; those pay A, so two have matured at 432.
    const start = await tipHeight();
    await burn(SEGWIT_HEIGHT - 101 - start);
    const mined = a.json<{ blocks: number }>('mine', '101');
    assert.equal(mined.blocks, 101);
    paid.first = SEGWIT_HEIGHT - 100;
    paid.last = SEGWIT_HEIGHT;
    assert.equal(await tipHeight(), SEGWIT_HEIGHT);
    await walletsExact('the coinbases matured at 432 in A');
    assert.equal(balance(a).onchain.confirmedSat, String(2n * subsidySat(paid.first)));
  });

  test('bad openchannel requests are refused naming what is wrong, and both nodes go on', async () => {
    // Not connected yet: A knows no peer.
    const unconnected = a.cli('--json', 'openchannel', ib.nodeId, String(CHANNEL_SAT));
    assert.equal(unconnected.status, 1, unconnected.stdout);
    const e1 = JSON.parse(unconnected.stdout).error;
    assert.equal(e1.code, 'peer-not-connected');
    assert.match(e1.message, new RegExp(`${ib.nodeId} is not connected`));
    const nobody = a.cli('openchannel', NOBODY, String(CHANNEL_SAT));
    assert.equal(nobody.status, 1);
    assert.match(nobody.stderr, /is not connected: connect to it first/);

    const connected = b.json<{ peer: { nodeId: string } }>(
      'connect',
      `${ia.nodeId}@127.0.0.1:${ia.listening.port}`,
    );
    assert.equal(connected.peer.nodeId, ia.nodeId);
    await waitFor(
      () =>
        a.json<{ peers: { nodeId: string }[] }>('listpeers').peers.some((p) => p.nodeId === ib.nodeId) ||
        undefined,
      { what: 'A to see B connected', intervalMs: CLI_POLL_MS },
    );

    // B's wallet is empty.
    const poor = b.cli('--json', 'openchannel', ia.nodeId, String(CHANNEL_SAT));
    assert.equal(poor.status, 1, poor.stdout);
    const e2 = JSON.parse(poor.stdout).error;
    assert.equal(e2.code, 'insufficient-funds');
    assert.match(e2.message, /the wallet can spend 0 sat; the channel needs 1000000 sat/);

    // Out of range: the API's own bounds (400 naming amountSat) and the node's limits.
    for (const [sats, pattern] of [
      ['0', /parameter "amountSat" must be an amount in sat from 1/],
      ['-5', /parameter "amountSat"/],
      ['1e6', /parameter "amountSat"/],
      ['2100000000000001', /parameter "amountSat"/],
      // Below the node's minimum funding.
      ['999', /amountSat must be from 1000 to \d+ sat; got 999/],
    ] as const) {
      const r = a.cli('--json', 'openchannel', ib.nodeId, sats);
      assert.equal(r.status, 1, `${sats}: ${r.stdout}${r.stderr}`);
      const e = JSON.parse(r.stdout).error;
      assert.equal(e.code, 'invalid-parameter', sats);
      assert.match(e.message, pattern, sats);
    }
    const push = a.cli('--json', 'openchannel', ib.nodeId, '100000', '--push-msat', '100000001');
    assert.match(JSON.parse(push.stdout).error.message, /parameter "pushMsat"/);
    const type = a.cli('--json', 'openchannel', ib.nodeId, '100000', '--type', 'legacy');
    assert.match(
      JSON.parse(type.stdout).error.message,
      /parameter "type" must be anchors or static-remotekey/,
    );

    // Nothing was opened, and both still answer.
    assert.deepEqual(channels(a), []);
    assert.deepEqual(channels(b), []);
    assert.equal(a.json<Info>('getinfo').nodeId, ia.nodeId);
    assert.equal(b.json<Info>('getinfo').nodeId, ib.nodeId);
    await walletsExact('no coin of A spent or held by the refusals');
  });

  test('A opens 1,000,000 sat with a push; after the depth both are ready, balances exact; the events came', {
    timeout: 300_000,
  }, async () => {
    const { url, token } = a.api();
    aEvents = await eventStream(url, token);
    assert.equal(aEvents.status, 200);
    bEvents = followEvents(b);

    const opened = a.json<{ channelId: string; fundingTxid: string }>(
      'openchannel',
      ib.nodeId,
      String(CHANNEL_SAT),
      '--push-msat',
      String(PUSH_MSAT),
    );
    assert.deepEqual(Object.keys(opened).sort(), ['channelId', 'fundingTxid']);
    assert.match(opened.channelId, /^[0-9a-f]{64}$/);
    assert.match(opened.fundingTxid, /^[0-9a-f]{64}$/);
    channelId = opened.channelId;

    // The funding transaction: the channel's output to the 2-of-2, A's change, and its fee.
    await inMempool(opened.fundingTxid, 'the funding transaction broadcast');
    const funding = await rawTx(opened.fundingTxid);
    const fundingFee = (await inputsSat(funding)) - outputsSat(funding);
    assert.ok(
      funding.outs.some((o) => BigInt(o.value) === CHANNEL_SAT),
      'an output of the channel amount',
    );
    assert.ok(fundingFee > 0n);
    moved.a -= CHANNEL_SAT + fundingFee;

    const pendingA = channelOf(a, channelId)!;
    assert.equal(pendingA.fundingTxid, opened.fundingTxid);
    assert.ok(['opening', 'awaiting-confirmation'].includes(pendingA.state), pendingA.state);

    // BOLT 2: each side waits for the minimum_depth the fundee asked.
    await burn(pendingA.minimumDepth);
    const readyA = await waitForChannel(a, channelId, (c) => c.state === 'ready', 'A: the channel ready');
    const readyB = await waitForChannel(b, channelId, (c) => c.state === 'ready', 'B: the channel ready');
    const fundingHeight = (await tipHeight()) - pendingA.minimumDepth + 1;
    const outputIndex = funding.outs.findIndex((o) => BigInt(o.value) === CHANNEL_SAT);
    for (const [c, peer, isFunder, local, remote] of [
      [readyA, ib.nodeId, true, CHANNEL_SAT * 1000n - PUSH_MSAT, PUSH_MSAT],
      [readyB, ia.nodeId, false, PUSH_MSAT, CHANNEL_SAT * 1000n - PUSH_MSAT],
    ] as const) {
      assert.equal(c.peer, peer);
      assert.equal(c.isFunder, isFunder);
      assert.equal(c.capacitySat, String(CHANNEL_SAT));
      // Exact to the msat: the push is not a whole number of sat.
      assert.equal(c.localBalanceMsat, String(local));
      assert.equal(c.remoteBalanceMsat, String(remote));
      assert.equal(c.fundingTxid, opened.fundingTxid);
      assert.equal(c.public, false);
      assert.ok(c.type === 'anchors' || c.type === 'static-remotekey', c.type);
      assert.equal(c.shortChannelId, `${fundingHeight}x1x${outputIndex}`);
      assert.ok(c.confirmations >= c.minimumDepth);
    }
    assert.equal(readyA.type, readyB.type);
    assert.equal(balance(a).lightning.localMsat, String(CHANNEL_SAT * 1000n - PUSH_MSAT));
    assert.equal(balance(b).lightning.localMsat, String(PUSH_MSAT));
    await walletsExact('A paid the funding and its fee, B nothing');

    // The events of the open, on A's GET /v1/events and B's lnkit-cli events.
    const of = (list: StreamedEvent['record'][], kind: string) =>
      list.find((r) => r.kind === kind && r.data.channelId === channelId);
    await waitFor(
      () =>
        of(
          aEvents.events.map((e) => e.record),
          'ChannelReady',
        ),
      {
        what: "ChannelReady on A's event stream",
      },
    );
    const pending = of(
      aEvents.events.map((e) => e.record),
      'ChannelPending',
    )!;
    const ready = of(
      aEvents.events.map((e) => e.record),
      'ChannelReady',
    )!;
    assert.ok(pending && pending.seq < ready.seq, 'ChannelPending first');
    assert.equal(pending.data.fundingTxid, opened.fundingTxid);
    assert.equal(ready.data.shortChannelId, readyA.shortChannelId);
    assert.equal(ready.data.localBalanceMsat, readyA.localBalanceMsat);
    const sent = aEvents.events.find((e) => e.record.seq === ready.seq)!;
    assert.deepEqual([sent.id, sent.event], [String(ready.seq), 'ChannelReady']);
    await waitFor(
      () =>
        of(bEvents.lines as unknown as StreamedEvent['record'][], 'ChannelReady') ??
        (bEvents.stderr() ? Promise.reject(new Error(bEvents.stderr())) : undefined),
      { what: "ChannelReady on B's lnkit-cli events" },
    );

    // A reconnecting client gives the last id it saw: what came after, nothing before.
    const replay = await eventStream(url, token, { lastEventId: pending.seq });
    await waitFor(() => replay.events.some((e) => e.record.seq === ready.seq) || undefined, {
      what: 'the replay after Last-Event-ID',
    });
    assert.ok(replay.events.every((e) => e.record.seq > pending.seq));
    replay.close();
    aEvents.close();

    const human = a.cli('listchannels');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`^${channelId}  ready  `, 'm'));
    assert.match(
      human.stdout,
      new RegExp(`local ${CHANNEL_SAT * 1000n - PUSH_MSAT} msat, remote ${PUSH_MSAT} msat`),
    );
  });

  // The manager loads its channels from the snapshot checked against the monitors (guide steps
  // 8, 9, 17) and reestablishes each (BOLT 2 channel_reestablish) once the peer reconnects; the
  // next test's cooperative close of this very channel needs that link back.
  test('SIGKILL both with the channel open, start them on their data dirs: the same channel, ready again', {
    timeout: 300_000,
  }, async () => {
    const beforeA = channelOf(a, channelId)!;
    const beforeB = channelOf(b, channelId)!;
    for (const p of followers) p.kill('SIGKILL');
    await b.kill('SIGKILL');
    await a.kill('SIGKILL');
    await a.start();
    await b.start();
    // B redials A (a persistent peer) and both send channel_reestablish.
    await waitFor(
      () =>
        a.json<{ peers: { nodeId: string }[] }>('listpeers').peers.some((p) => p.nodeId === ib.nodeId) ||
        undefined,
      { what: 'B to reconnect to A', intervalMs: CLI_POLL_MS, timeoutMs: 120_000 },
    );
    const afterA = await waitForChannel(
      a,
      channelId,
      (c) => c.state === 'ready',
      'A: ready after the restart',
    );
    const afterB = await waitForChannel(
      b,
      channelId,
      (c) => c.state === 'ready',
      'B: ready after the restart',
    );
    for (const [was, now] of [
      [beforeA, afterA],
      [beforeB, afterB],
    ] as const) {
      for (const k of [
        'channelId',
        'peer',
        'type',
        'capacitySat',
        'localBalanceMsat',
        'remoteBalanceMsat',
        'shortChannelId',
        'fundingTxid',
        'isFunder',
      ] as const)
        assert.equal(now[k], was[k], k);
    }
    await walletsExact('the wallets as they were');
  });

  /** Closes `id` from `closer`, mines it, and accounts each wallet's output of the closing tx. */
  async function cooperativeClose(closer: Daemon, id: string, pushMsat: bigint): Promise<void> {
    const closed = closer.json<{ channelId: string; closingTxid: string | null }>('closechannel', id);
    assert.equal(closed.channelId, id);
    const closing = await waitForChannel(
      closer,
      id,
      (c) => c.closingTxid !== null,
      'the closing transaction agreed',
    );
    const closingTxid = closing.closingTxid!;
    if (closed.closingTxid !== null) assert.equal(closed.closingTxid, closingTxid);
    await inMempool(closingTxid, 'the closing transaction broadcast');
    const tx = await rawTx(closingTxid);
    assert.equal(tx.ins.length, 1);
    assert.equal(Buffer.from(tx.ins[0]!.hash).reverse().toString('hex'), closing.fundingTxid);
    // BOLT 3: each output is its side's balance rounded down to the sat, the funder (A) paying
    // the fee from its own: B's is exactly its push in sat, A's its share in sat less the fee.
    const bSat = pushMsat / 1000n;
    const aShareSat = (CHANNEL_SAT * 1000n - pushMsat) / 1000n;
    const values = tx.outs.map((o) => BigInt(o.value));
    assert.equal(values.length, 2, 'no output trimmed: both are above the dust limit');
    assert.ok(values.includes(bSat), `B's output is ${bSat} sat: ${values.join(', ')}`);
    const aSat = values.find((v) => v !== bSat) ?? bSat;
    const closingFee = aShareSat - aSat;
    // The fee is the funder's alone, and a sane rate for the transaction's weight (sat per 1000).
    const perKw = (closingFee * 1000n) / BigInt(tx.weight());
    assert.ok(perKw >= 253n && perKw <= 100_000n, `closing fee ${closingFee} sat, ${perKw} sat/kw`);
    // What the miner takes is that fee and the msat neither side could have on chain.
    assert.equal(CHANNEL_SAT - outputsSat(tx), closingFee + (CHANNEL_SAT - aShareSat - bSat));
    const [block] = await burn(1);
    const mined = await chainRpc<{ tx: string[] }>('getblock', [block, true]);
    assert.ok(mined.tx.includes(closingTxid), 'bcoin took the closing transaction into a block');
    moved.a += aSat;
    moved.b += bSat;
    for (const d of [a, b])
      await waitForChannel(
        d,
        id,
        (c) => c.state === 'closed' && c.closingTxid === closingTxid,
        'closed on both sides',
      );
    await walletsExact('each wallet holds its side of the closing transaction');
  }

  test('A closes the channel cooperatively: bcoin confirms it, each wallet holds exactly its side', {
    timeout: 300_000,
  }, async () => {
    await cooperativeClose(a, channelId, PUSH_MSAT);
    assert.equal(balance(a).lightning.localMsat, '0');
    assert.equal(balance(b).lightning.localMsat, '0');
    const again = a.cli('--json', 'closechannel', channelId);
    assert.equal(again.status, 1);
    assert.equal(JSON.parse(again.stdout).error.code, 'unknown-channel');
  });

  test('a second channel, closed by B: confirmed, each wallet exact again', {
    timeout: 300_000,
  }, async () => {
    const opened = a.json<{ channelId: string; fundingTxid: string }>(
      'openchannel',
      ib.nodeId,
      String(CHANNEL_SAT),
      '--push-msat',
      String(SECOND_PUSH_MSAT),
    );
    await inMempool(opened.fundingTxid, 'the second funding broadcast');
    const funding = await rawTx(opened.fundingTxid);
    moved.a -= CHANNEL_SAT + ((await inputsSat(funding)) - outputsSat(funding));
    await burn(channelOf(a, opened.channelId)!.minimumDepth);
    for (const d of [a, b])
      await waitForChannel(d, opened.channelId, (c) => c.state === 'ready', 'the second channel ready');
    await cooperativeClose(b, opened.channelId, SECOND_PUSH_MSAT);
  });

  // Last: what the commitment's outputs become in the wallets is the on-chain claims' work.
  test('a static-remotekey channel force-closed by A: its commitment, spending the funding, in a bcoin block', {
    timeout: 300_000,
  }, async () => {
    const opened = a.json<{ channelId: string; fundingTxid: string }>(
      'openchannel',
      ib.nodeId,
      String(CHANNEL_SAT),
      '--push-msat',
      String(THIRD_PUSH_MSAT),
      '--type',
      'static-remotekey',
    );
    await inMempool(opened.fundingTxid, 'the third funding broadcast');
    await burn(channelOf(a, opened.channelId)!.minimumDepth);
    for (const d of [a, b]) {
      const c = await waitForChannel(
        d,
        opened.channelId,
        (x) => x.state === 'ready',
        'the third channel ready',
      );
      assert.equal(c.type, 'static-remotekey');
    }
    const forced = a.json<{ channelId: string; closingTxid: string | null }>(
      'closechannel',
      opened.channelId,
      '--force',
    );
    assert.equal(forced.channelId, opened.channelId);
    const closing = await waitForChannel(
      a,
      opened.channelId,
      (c) => c.closingTxid !== null,
      'the commitment known',
    );
    const commitmentTxid = closing.closingTxid!;
    if (forced.closingTxid !== null) assert.equal(forced.closingTxid, commitmentTxid);
    await inMempool(commitmentTxid, 'the commitment broadcast');
    const tx = await rawTx(commitmentTxid);
    assert.equal(tx.ins.length, 1);
    assert.equal(Buffer.from(tx.ins[0]!.hash).reverse().toString('hex'), opened.fundingTxid);
    // BOLT 3: B's to_remote is its balance in sat; A's to_local its own less the commitment fee,
    // which is feerate_per_kw * 724 / 1000 rounded down for some feerate of at least 253.
    const values = tx.outs.map((o) => BigInt(o.value));
    assert.equal(values.length, 2, values.join(', '));
    const toRemoteSat = THIRD_PUSH_MSAT / 1000n;
    assert.ok(values.includes(toRemoteSat), `B's to_remote ${toRemoteSat}: ${values.join(', ')}`);
    const commitFeeSat =
      (CHANNEL_SAT * 1000n - THIRD_PUSH_MSAT) / 1000n - values.find((v) => v !== toRemoteSat)!;
    const lowestPerKw = (commitFeeSat * 1000n + COMMITMENT_WEIGHT - 1n) / COMMITMENT_WEIGHT;
    assert.equal(
      (lowestPerKw * COMMITMENT_WEIGHT) / 1000n,
      commitFeeSat,
      `a commitment fee of ${commitFeeSat} sat`,
    );
    assert.ok(lowestPerKw >= 253n, `${lowestPerKw} sat/kw`);
    const [block] = await burn(1);
    const mined = await chainRpc<{ tx: string[] }>('getblock', [block, true]);
    assert.ok(mined.tx.includes(commitmentTxid), "bcoin took A's commitment into a block");
    assert.notEqual(channelOf(a, opened.channelId)!.state, 'ready');
  });
});
