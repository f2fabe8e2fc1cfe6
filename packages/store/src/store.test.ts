import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Store, StoreError } from './index.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `d${n++}`);
const bytes = (...b: number[]) => new Uint8Array(b);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof StoreError, `expected StoreError, got ${e}`);
    return e.code;
  }
  return 'no error';
}

describe('named databases', () => {
  test('values round-trip, databases are separate, ranges are ordered', async () => {
    const store = await Store.open(freshDir(), { schemaVersion: 1 });
    try {
      const a = store.db('a');
      const b = store.db('b');
      await a.put('k2', bytes(2));
      await a.put('k1', bytes(1));
      await b.put('k1', bytes(9));
      assert.deepEqual(a.get('k1'), bytes(1));
      assert.deepEqual(b.get('k1'), bytes(9));
      assert.equal(a.get('missing'), undefined);
      assert.deepEqual(
        a.entries().map((e) => e.key),
        ['k1', 'k2'],
      );
      // lmdb refuses keys over 1978 bytes: a typed error from put and remove, not a plain throw.
      assert.equal(await codeOf(a.put('k'.repeat(2000), bytes(1))), 'write-failed');
      assert.equal(await codeOf(a.remove('k'.repeat(2000))), 'write-failed');
      await a.remove('k1');
      assert.equal(a.get('k1'), undefined);
      assert.equal(a.count(), 1);
      const meta = store.db<{ height: number; hash: string }>('meta', 'structured');
      await meta.put('tip', { height: 5, hash: 'ab' });
      assert.deepEqual(meta.get('tip'), { height: 5, hash: 'ab' });
    } finally {
      await store.close();
    }
  });

  test('a transaction over two databases commits all keys, and a failing one commits none', async () => {
    const dir = freshDir();
    let store = await Store.open(dir, { schemaVersion: 1 });
    await store.transaction((t) => {
      t.put('x', 'k', bytes(1));
      t.put('y', 'k', bytes(2));
      t.remove('x', 'never-there');
    });
    await assert.rejects(
      store.transaction((t) => {
        t.put('x', 'k', bytes(7));
        throw new Error('changed my mind');
      }),
      /changed my mind/,
    );
    // A write that lmdb itself refuses part-way through (a key over its size limit) must roll
    // back the writes staged before it, in the same transaction and in other databases.
    assert.equal(
      await codeOf(
        store.transaction((t) => {
          t.put('x', 'k', bytes(8));
          t.put('y', 'k', bytes(8));
          t.put('y', 'z'.repeat(4000), bytes(8));
        }),
      ),
      'write-failed',
    );
    assert.deepEqual(store.db('x').get('k'), bytes(1));
    assert.deepEqual(store.db('y').get('k'), bytes(2));
    await store.close();
    store = await Store.open(dir, { schemaVersion: 1 });
    assert.deepEqual(store.db('x').get('k'), bytes(1));
    assert.deepEqual(store.db('y').get('k'), bytes(2));
    assert.deepEqual(store.db('y').get('k'), bytes(2));
    await store.close();
    await assert.rejects(
      async () => store.db('x').put('k', bytes(1)),
      (e: StoreError) => e.code === 'closed',
    );
  });
});

describe('durability', () => {
  for (const mode of ['put', 'txn'] as const) {
    test(`every ${mode} that resolved survives a SIGKILL of the writing process`, async () => {
      const dir = freshDir();
      const writer = fileURLToPath(new URL('./test-support/writer.ts', import.meta.url));
      const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, mode], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let acked = -1;
      let buffered = '';
      const killAt = 40 + Math.floor(Math.random() * 60);
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop()!;
          for (const l of lines) acked = Number(l.split(' ')[1]);
          if (acked >= killAt && !child.killed) child.kill('SIGKILL');
        });
        child.on('exit', () => resolve());
      });
      assert.ok(acked >= killAt, `the writer acknowledged ${acked} writes before it was killed`);
      const store = await Store.open(dir, { schemaVersion: 1 });
      try {
        const records = store.db('records');
        for (let i = 0; i <= acked; i++) {
          assert.deepEqual(
            records.get(`r${i}`),
            new Uint8Array(256).fill(i & 0xff),
            `record ${i} was acknowledged`,
          );
        }
        if (mode === 'txn') {
          // Atomicity: whatever else landed, each record has its index entry and vice versa.
          const keys = records.entries().map((e) => e.key);
          const index = store
            .db('index')
            .entries()
            .map((e) => e.key);
          assert.deepEqual(index, keys);
        }
      } finally {
        await store.close();
      }
    });
  }
});

describe('schema versions', () => {
  test('a newer data dir is refused with a clear error; an older one is migrated or refused', async () => {
    const dir = freshDir();
    await (await Store.open(dir, { schemaVersion: 2 })).close();
    try {
      await Store.open(dir, { schemaVersion: 1 });
      assert.fail('opened a newer data dir');
    } catch (e) {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, 'schema-too-new');
      assert.match(e.message, /newer lnkit \(schema 2\).*reads schema 1/);
    }
    assert.equal(await codeOf(Store.open(dir, { schemaVersion: 3 })), 'schema-too-old');
    const steps: number[] = [];
    const s = await Store.open(dir, {
      schemaVersion: 4,
      migrate: async (store, from) => {
        steps.push(from);
        await store.db('migrations').put(`from-${from}`, bytes(from));
      },
    });
    assert.deepEqual(steps, [2, 3]);
    assert.equal(s.schemaVersion(), 4);
    await s.close();
  });

  test('a data dir of another network is refused', async () => {
    const dir = freshDir();
    await (await Store.open(dir, { schemaVersion: 1, network: 'regtest' })).close();
    assert.equal(await codeOf(Store.open(dir, { schemaVersion: 1, network: 'bitcoin' })), 'wrong-network');
  });
});

describe('bad data dirs', () => {
  test('a data dir that is a file', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    assert.equal(await codeOf(Store.open(file, { schemaVersion: 1 })), 'not-a-directory');
    assert.equal(await codeOf(Store.open(join(file, 'below'), { schemaVersion: 1 })), 'not-a-directory');
  });

  test('a data file that is not lmdb, or was cut short, is a corrupt StoreError, not a dead process', async () => {
    // lmdb itself would map such a file and die of SIGSEGV or SIGBUS, so each case runs in a
    // child process: a regression shows as a signal there, not as the test runner crashing.
    const good = freshDir();
    const s = await Store.open(good, { schemaVersion: 1 });
    for (let i = 0; i < 12; i++) await s.db('a').put(`k${i}`, new Uint8Array(3000).fill(i));
    await s.close();
    const whole = readFileSync(join(good, 'lnkit.mdb'));
    const pageSize = whole.readUInt32LE(48);
    assert.ok(whole.length >= 8 * pageSize, `a store of ${whole.length / pageSize} pages`);
    const script = fileURLToPath(new URL('./test-support/open-as.ts', import.meta.url));
    const cases: [string, Uint8Array][] = [
      ['not an lmdb file', new Uint8Array(20_000).fill(0x5a)],
      ['cut to 100 bytes', whole.subarray(0, 100)],
      ['cut to one page', whole.subarray(0, pageSize)],
      ['cut to three pages', whole.subarray(0, 3 * pageSize)],
      ['intact', whole],
    ];
    for (const [what, content] of cases) {
      const dir = freshDir();
      mkdirSync(dir);
      writeFileSync(join(dir, 'lnkit.mdb'), content);
      const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir], { encoding: 'utf8' });
      assert.equal(r.signal, null, `${what}: the process died of ${r.signal}`);
      assert.equal(r.stdout.trim(), what === 'intact' ? 'opened' : 'corrupt', `${what}: ${r.stderr}`);
    }
  });

  test('a read-only data dir', () => {
    const dir = freshDir();
    mkdirSync(dir);
    chmodSync(dir, 0o555);
    // root ignores permission bits, so the check runs as an unprivileged user when we are root.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (asUser.uid) {
      chownSync(dir, 0, 0);
      chmodSync(root, 0o711); // mkdtemp made it 0700: let that user reach the data dir
    }
    const script = fileURLToPath(new URL('./test-support/open-as.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, dir], {
      encoding: 'utf8',
      ...asUser,
      env: { ...process.env, TSX_TSCONFIG_PATH: '' },
    });
    assert.equal(r.stdout.trim(), 'read-only', r.stderr);
  });
});
