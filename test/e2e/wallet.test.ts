/**
 * End to end, the on-chain wallet: a fresh lnkitd on its embedded bcoin chain, `mine` paying its
 * coinbases to the node's wallet, the confirmed balance exactly the matured coinbases, receive
 * addresses bcoin takes, and the balance kept across a SIGKILL — through lnkit-cli and the API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@lnkit/test-support';
import { address as btcAddress } from 'bitcoinjs-lib';
import { CLI_POLL_MS, Daemon, request } from './daemon.ts';

interface Balance {
  onchain: { confirmedSat: string; unconfirmedSat: string; pendingSweepSat: string };
  lightning: { localMsat: string };
}

/** bcoin regtest's block subsidy: 50 BTC, halved every 150 blocks. */
const subsidySat = (height: number) => 5_000_000_000n >> BigInt(Math.floor(height / 150));
/** A coinbase of block h is spendable in block h + 100 (consensus), so mature once the tip is h + 99. */
const maturedSat = (firstPaid: number, tip: number) => {
  let sum = 0n;
  for (let h = firstPaid; h <= tip - 99; h++) sum += subsidySat(h);
  return sum;
};

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-wallet-'));
let d: Daemon;
/** The first block paid to the wallet, and the tip after the test's mining so far. */
let firstPaid = 0;
let tip = 0;

before(async () => {
  d = new Daemon(join(root, 'w'), ['--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);
  await d.start();
});

after(async () => {
  await d?.kill('SIGKILL');
  rmSync(root, { recursive: true, force: true });
});

const balance = () => d.json<Balance>('balance');
const waitForConfirmed = (sat: bigint, what: string) =>
  waitFor(() => balance().onchain.confirmedSat === sat.toString() || undefined, {
    what,
    intervalMs: CLI_POLL_MS,
  });

/** The embedded chain's own JSON-RPC (bcoin), reached as any other process would reach it. */
async function chainRpc(method: string, params: unknown[]): Promise<unknown> {
  const chain = JSON.parse(readFileSync(join(d.dataDir, 'embedded-chain.json'), 'utf8'));
  const auth = Buffer.from(`${chain.rpcUser}:${chain.rpcPassword}`).toString('base64');
  const res = await request(chain.rpcUrl, {
    method: 'POST',
    headers: { authorization: `Basic ${auth}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  });
  assert.equal(res.status, 200, res.text);
  return ((await res.json()) as { result: unknown }).result;
}

describe('the wallet of a fresh lnkitd on its embedded chain', () => {
  test('mine 101 pays the wallet: the confirmed balance is exactly the matured coinbases', async () => {
    const start = d.json<{ blockHeight: number }>('getinfo').blockHeight;
    assert.equal(start, 0, 'a fresh embedded chain');
    assert.deepEqual(balance(), {
      onchain: { confirmedSat: '0', unconfirmedSat: '0', pendingSweepSat: '0' },
      lightning: { localMsat: '0' },
    });
    const mined = d.json<{ blocks: number; hashes: string[] }>('mine', '101');
    assert.equal(mined.blocks, 101);
    firstPaid = start + 1;
    tip = start + 101;
    // Blocks 1 and 2 are mature at tip 101 (spendable in block 102): two coinbases of 50 BTC.
    const expected = maturedSat(firstPaid, tip);
    assert.equal(expected, 10_000_000_000n);
    await waitForConfirmed(expected, 'the two matured coinbases in the confirmed balance');
    assert.deepEqual(balance(), {
      onchain: { confirmedSat: '10000000000', unconfirmedSat: '0', pendingSweepSat: '0' },
      lightning: { localMsat: '0' },
    });

    // The API answers the same, amounts as strings.
    const { url, token } = d.api();
    const res = await request(`${url}/v1/balance`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), balance());

    const human = d.cli('balance');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^on-chain confirmed: +10000000000 sat \(100\.00000000 BTC\)$/m);
    assert.match(human.stdout, /^on-chain unconfirmed: +0 sat$/m);
    assert.match(human.stdout, /^lightning local: +0 msat$/m);
  });

  test('newaddress: a new BIP 84 regtest address each time, in the bech32 bcoin reads', async () => {
    const first = d.json<{ address: string }>('newaddress').address;
    const second = d.json<{ address: string }>('newaddress').address;
    assert.notEqual(first, second);
    for (const a of [first, second]) {
      const decoded = btcAddress.fromBech32(a);
      assert.equal(decoded.prefix, 'rb', "the embedded chain's regtest prefix");
      assert.equal(decoded.version, 0);
      assert.equal(decoded.data.length, 20, 'P2WPKH');
      const valid = (await chainRpc('validateaddress', [a])) as { isvalid: boolean; scriptPubKey?: string };
      assert.equal(valid.isvalid, true, `bcoin takes ${a}`);
      assert.equal(valid.scriptPubKey, `0014${Buffer.from(decoded.data).toString('hex')}`);
    }
    const human = d.cli('newaddress');
    assert.equal(human.status, 0, human.stderr);
    assert.match(human.stdout, /^rb1q[02-9ac-hj-np-z]{38}\n$/);

    const { url, token } = d.api();
    const auth = { authorization: `Bearer ${token}` };
    const posted = await request(`${url}/v1/newaddress`, { method: 'POST', headers: auth });
    assert.equal(posted.status, 200);
    assert.match(((await posted.json()) as { address: string }).address, /^rb1q/);
    // Giving out an address changes the wallet: not a GET.
    const got = await request(`${url}/v1/newaddress`, { headers: auth });
    assert.equal(got.status, 405);
    assert.match(got.text, /method-not-allowed/);
    const extra = d.cli('newaddress', 'now');
    assert.equal(extra.status, 2);
    assert.match(extra.stderr, /expected no arguments/);
  });

  test('SIGKILL and restart: the same balance, addresses not given out again, new blocks counted', async () => {
    const kept = balance();
    const given = new Set([d.json<{ address: string }>('newaddress').address]);
    assert.equal(await d.kill('SIGKILL'), null);
    await d.start();
    // Ready means synchronised: the wallet was brought to the chain tip before the API opened.
    assert.deepEqual(balance(), kept);
    assert.equal(d.json<{ blockHeight: number }>('getinfo').blockHeight, tip);
    assert.ok(!given.has(d.json<{ address: string }>('newaddress').address), 'the address index survived');

    d.json('mine', '1');
    tip += 1;
    await waitForConfirmed(maturedSat(firstPaid, tip), 'the third coinbase to mature after the restart');
    assert.equal(balance().onchain.confirmedSat, '15000000000');
  });
});
