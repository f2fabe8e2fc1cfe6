import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RpcErrorCode, startTestChain, type TestChain, TestChainError } from './index.ts';

// P2WPKH of an arbitrary 20-byte hash: OP_0 <20 bytes>. Only the script matters to the chain.
const p2wpkh = (fill: number) => new Uint8Array([0x00, 0x14, ...new Array(20).fill(fill)]);

async function httpRpc(url: string, user: string, password: string, method: string, params: unknown[] = []) {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ jsonrpc: '1.0', id: 'test', method, params }),
  });
  const text = await res.text();
  return {
    status: res.status,
    body: text
      ? (JSON.parse(text) as { result: unknown; error: { code: number; message: string } | null })
      : null,
  };
}

/** Flips a bit inside the DER `r` of the first input's signature (legacy P2PKH scriptSig). */
function tamperFirstSignature(raw: Uint8Array): Uint8Array {
  const tx = new Uint8Array(raw);
  // version(4) | input count (1, small) | prev txid(32) | vout(4) | scriptSig length(1) | push length(1) | DER
  assert.equal(tx[4], 0x01, 'expects one legacy input (no segwit marker)');
  const der = 4 + 1 + 32 + 4 + 1 + 1;
  assert.equal(tx[der], 0x30);
  assert.equal(tx[der + 2], 0x02);
  const rLength = tx[der + 3] ?? 0;
  const lastOfR = der + 4 + rLength - 1;
  tx[lastOfR] = (tx[lastOfR] ?? 0) ^ 0x01;
  return tx;
}

let chain: TestChain;
let cookieDir: string;

before(async () => {
  cookieDir = await mkdtemp(join(tmpdir(), 'lnkit-testchain-'));
  chain = await startTestChain({ cookieFile: join(cookieDir, '.cookie') });
});
after(async () => {
  await chain.stop();
  await rm(cookieDir, { recursive: true, force: true });
});

test('serves bitcoind JSON-RPC on a loopback port with basic auth and cookie', async () => {
  assert.match(chain.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const ok = await httpRpc(chain.rpcUrl, chain.rpcUser, chain.rpcPassword, 'getblockcount');
  assert.equal(ok.status, 200);
  assert.equal(ok.body?.result, 0);
  const wrongPassword = await httpRpc(chain.rpcUrl, chain.rpcUser, 'wrong', 'getblockcount');
  assert.equal(wrongPassword.status, 401);
  const wrongUser = await httpRpc(chain.rpcUrl, 'someone', chain.rpcPassword, 'getblockcount');
  assert.equal(wrongUser.status, 401);
  const [user, password] = (await readFile(join(cookieDir, '.cookie'), 'utf8')).split(':');
  assert.equal(user, '__cookie__');
  const byCookie = await httpRpc(chain.rpcUrl, user ?? '', password ?? '', 'getblockcount');
  assert.equal(byCookie.status, 200);
  const unknown = await httpRpc(chain.rpcUrl, chain.rpcUser, chain.rpcPassword, 'nosuchmethod');
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body?.error?.code, RpcErrorCode.methodNotFound);
});

test('mines blocks, activates segwit at 432, and answers estimatesmartfee in bitcoind shape', async () => {
  const hashes = await chain.mine(5);
  assert.equal(hashes.length, 5);
  assert.equal(await chain.height(), 5);
  assert.equal(await chain.rpc('getbestblockhash'), hashes[4]);
  assert.equal(await chain.rpc('getblockhash', [3]), hashes[2]);
  // bitcoind's verbose header: bits as 8 hex digits, no nextblockhash at the tip.
  const verbose = (await chain.rpc('getblockheader', [hashes[4], true])) as Record<string, unknown>;
  const raw = Buffer.from((await chain.rpc('getblockheader', [hashes[4], false])) as string, 'hex');
  assert.equal(verbose.bits, raw.readUInt32LE(72).toString(16).padStart(8, '0'));
  assert.equal(verbose.nonce, raw.readUInt32LE(76));
  assert.ok(!('nextblockhash' in verbose));
  const below = (await chain.rpc('getblockheader', [hashes[3], true])) as Record<string, unknown>;
  assert.equal(below.nextblockhash, hashes[4]);
  await chain.activateSegwit();
  assert.equal(await chain.height(), 432);
  const info = (await chain.rpc('getblockchaininfo')) as { bip9_softforks: { segwit: { status: string } } };
  assert.equal(info.bip9_softforks.segwit.status, 'active');
  // Regtest has no fee history: bitcoind answers with `errors`, not bcoin's `{ fee: -1 }`.
  const fee = (await chain.rpc('estimatesmartfee', [6])) as { errors?: string[]; feerate?: number };
  // Targets bcoin does not track (it throws for them) still get bitcoind's no-estimate shape.
  for (const target of [144, 1008]) {
    const far = (await chain.rpc('estimatesmartfee', [target])) as { errors?: string[] };
    assert.ok(far.errors?.length, `target ${target}`);
  }
  assert.ok(Array.isArray(fee.errors));
  assert.equal(fee.feerate, undefined);
});

test('fundScript pays a script from matured coinbase coins; the payment confirms', async () => {
  const script = p2wpkh(0x11);
  const funded = await chain.fundScript(script, 1_234_567n);
  assert.equal(funded.valueSat, 1_234_567n);
  assert.equal(
    createHash('sha256')
      .update(createHash('sha256').update(funded.rawTx).digest())
      .digest()
      .reverse()
      .toString('hex'),
    funded.txid,
  );
  assert.ok(((await chain.rpc('getrawmempool')) as string[]).includes(funded.txid));
  const [blockHash] = await chain.mine(1);
  const block = (await chain.rpc('getblock', [blockHash, true])) as { tx: string[] };
  assert.ok(block.tx.includes(funded.txid));
  const out = (await chain.rpc('gettxout', [funded.txid, funded.vout])) as {
    value: number;
    scriptPubKey: { hex: string };
  };
  assert.equal(out.scriptPubKey.hex, Buffer.from(script).toString('hex'));
  assert.equal(Math.round(out.value * 1e8), 1_234_567);
});

test('sendrawtransaction over HTTP rejects a bad signature and double spends as bitcoind does', async () => {
  const send = (raw: Uint8Array) =>
    httpRpc(chain.rpcUrl, chain.rpcUser, chain.rpcPassword, 'sendrawtransaction', [
      Buffer.from(raw).toString('hex'),
    ]);
  const a = await chain.signFunding(p2wpkh(0x22), 50_000n);
  const b = await chain.signFunding(p2wpkh(0x33), 60_000n); // same coins as `a`: a double spend of it

  const badSig = await send(tamperFirstSignature(a.rawTx));
  assert.equal(badSig.status, 500);
  assert.equal(badSig.body?.error?.code, -26);
  assert.match(badSig.body?.error?.message ?? '', /^mandatory-script-verify-flag-failed/);

  const spentCoin = Buffer.from(a.rawTx.subarray(5, 37)).reverse().toString('hex');
  const spentVout = Buffer.from(a.rawTx).readUInt32LE(37);
  assert.notEqual(await chain.rpc('gettxout', [spentCoin, spentVout]), null);
  const accepted = await send(a.rawTx);
  assert.equal(accepted.status, 200);
  assert.equal(accepted.body?.result, a.txid);
  // As bitcoind: spent by a mempool transaction, so gone unless the mempool is left out.
  assert.equal(await chain.rpc('gettxout', [spentCoin, spentVout]), null);
  assert.notEqual(await chain.rpc('gettxout', [spentCoin, spentVout, false]), null);
  // bitcoind returns the txid again for a transaction already in its mempool.
  assert.equal((await send(a.rawTx)).body?.result, a.txid);

  const conflict = await send(b.rawTx);
  assert.equal(conflict.body?.error?.code, -26);
  assert.equal(conflict.body?.error?.message, 'txn-mempool-conflict');

  await chain.mine(1);
  const spent = await send(b.rawTx);
  assert.equal(spent.body?.error?.code, -25);
  assert.equal(spent.body?.error?.message, 'bad-txns-inputs-missingorspent');
  const again = await send(a.rawTx);
  assert.equal(again.body?.error?.code, -27);

  const garbage = await httpRpc(chain.rpcUrl, chain.rpcUser, chain.rpcPassword, 'sendrawtransaction', [
    '00zz',
  ]);
  assert.equal(garbage.body?.error?.code, -22);
  // The in-process API rejects the same way.
  await assert.rejects(chain.sendRawTransaction(Buffer.from(b.rawTx).toString('hex')), (err: unknown) => {
    assert.ok(err instanceof TestChainError);
    assert.equal(err.code, -25);
    return true;
  });
});

test('reorg(depth) replaces the last depth blocks with depth+1 competing ones', async () => {
  const paid = await chain.fundScript(p2wpkh(0x44), 70_000n);
  await chain.mine(1);
  assert.ok(!((await chain.rpc('getrawmempool')) as string[]).includes(paid.txid));
  const before = await chain.height();
  const replaced = await Promise.all([0, 1, 2].map((i) => chain.rpc('getblockhash', [before - i])));
  const fork = await chain.rpc('getblockhash', [before - 3]);
  const fresh = await chain.reorg(3);
  assert.equal(fresh.length, 4);
  assert.equal(await chain.height(), before + 1);
  assert.equal(await chain.rpc('getbestblockhash'), fresh[3]);
  const first = (await chain.rpc('getblockheader', [fresh[0], true])) as { previousblockhash: string };
  assert.equal(first.previousblockhash, fork);
  // As bitcoind does, the replaced blocks' transactions are back in the mempool.
  assert.ok(((await chain.rpc('getrawmempool')) as string[]).includes(paid.txid));
  for (const old of replaced) {
    assert.ok(!fresh.includes(old as string));
    const header = (await chain.rpc('getblockheader', [old, true])) as { confirmations: number };
    assert.ok(header.confirmations <= 0, 'a replaced block is off the main chain');
  }
});

test('serves a bitcoind-compatible REST subset', async () => {
  const tip = (await chain.rpc('getbestblockhash')) as string;
  const height = await chain.height();
  const bin = new Uint8Array(await (await fetch(`${chain.restUrl}/block/${tip}.bin`)).arrayBuffer());
  assert.equal(Buffer.from(bin).toString('hex'), await chain.rpc('getblock', [tip, 0]));
  const prev = (await chain.rpc('getblockhash', [height - 2])) as string;
  const headers = new Uint8Array(await (await fetch(`${chain.restUrl}/headers/5/${prev}.bin`)).arrayBuffer());
  assert.equal(headers.length, 3 * 80);
  assert.equal(
    Buffer.from(headers.subarray(160)).toString('hex'),
    await chain.rpc('getblockheader', [tip, false]),
  );
  const info = (await (await fetch(`${chain.restUrl}/chaininfo.json`)).json()) as {
    blocks: number;
    bestblockhash: string;
  };
  assert.equal(info.blocks, height);
  assert.equal(info.bestblockhash, tip);
  const byHeight = (await (await fetch(`${chain.restUrl}/blockhashbyheight/${height}.json`)).json()) as {
    blockhash: string;
  };
  assert.equal(byHeight.blockhash, tip);
  assert.equal((await fetch(`${chain.restUrl}/block/${'00'.repeat(32)}.bin`)).status, 404);
});

test('the JSON-RPC can be stopped and served again on the same port', async () => {
  const port = chain.port;
  await chain.stopRpc();
  await assert.rejects(fetch(chain.rpcUrl, { method: 'POST', body: '{}' }));
  await chain.startRpc();
  assert.equal(chain.port, port);
  const ok = await httpRpc(chain.rpcUrl, chain.rpcUser, chain.rpcPassword, 'getblockcount');
  assert.equal(ok.body?.result, await chain.height());
});

test('bad arguments and an empty wallet are typed rejections, not crashes', async () => {
  const code = (expected: number) => (err: unknown) => err instanceof TestChainError && err.code === expected;
  await assert.rejects(chain.mine(-1), code(RpcErrorCode.invalidParameter));
  await assert.rejects(chain.reorg(0), code(RpcErrorCode.invalidParameter));
  await assert.rejects(chain.mine(1, new Uint8Array([0x6a])), code(RpcErrorCode.invalidAddressOrKey));
  await assert.rejects(chain.fundScript(p2wpkh(1), 0n), code(RpcErrorCode.invalidParameter));
  const fresh = await startTestChain();
  try {
    await fresh.mine(1);
    // Its only coinbase is immature: nothing to spend yet.
    await assert.rejects(fresh.fundScript(p2wpkh(1), 1000n), code(RpcErrorCode.walletInsufficientFunds));
  } finally {
    await fresh.stop();
  }
  await assert.rejects(
    chain.rpc('getblockheader', ['00'.repeat(32)]),
    (err: unknown) => err instanceof TestChainError,
  );
  // A port already in use (e.g. a restart while the old node still holds it) is a clear error.
  await assert.rejects(
    startTestChain({ port: chain.port }),
    (err: unknown) =>
      err instanceof TestChainError &&
      err.message === `cannot serve JSON-RPC on 127.0.0.1:${chain.port}: EADDRINUSE`,
  );
});
