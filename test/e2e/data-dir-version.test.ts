/**
 * lnkitd on a data dir written by a newer lnkit: it refuses to start, and says why, naming
 * both versions (a newer schema, or a record that needs a newer reader).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chainTipRecord, nodeStoreOptions, SCHEMA_VERSION } from '@lnkit/node';
import { defineRecord, fieldCodec as f, Store } from '@lnkit/store';
import { runToExit } from './daemon.ts';

const root = mkdtempSync(join(tmpdir(), 'lnkit-e2e-version-'));
after(() => rmSync(root, { recursive: true, force: true }));
const start = (dataDir: string) =>
  runToExit(['--datadir', dataDir, '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0']);

test('lnkitd refuses a data dir of a newer schema, naming both versions', async () => {
  const dataDir = join(root, 'schema');
  await (await Store.open(dataDir, { schemaVersion: SCHEMA_VERSION + 1, network: 'regtest' })).close();
  const r = await start(dataDir);
  assert.equal(r.code, 1, r.output);
  assert.match(
    r.output,
    new RegExp(
      `lnkitd could not start: data dir \\S+ was written by a newer lnkit \\(schema ${SCHEMA_VERSION + 1}\\); this lnkit reads schema ${SCHEMA_VERSION} and older`,
    ),
  );
  assert.doesNotMatch(r.output, /\n\s+at /);
});

test('lnkitd refuses a chain tip record that needs a newer reader, naming both versions', async () => {
  const dataDir = join(root, 'record');
  const future = defineRecord<{ height: number; hashHex: string }>({
    kind: chainTipRecord.kind,
    version: 4,
    minReadVersion: 3,
    fields: { height: { type: 0, codec: f.u32 }, hashHex: { type: 2, codec: f.hex(32) } },
  });
  const store = await Store.open(dataDir, nodeStoreOptions('regtest'));
  await store.db('meta').put('chain-tip', future.encode({ height: 0, hashHex: '00'.repeat(32) }));
  await store.close();
  const r = await start(dataDir);
  assert.equal(r.code, 1, r.output);
  assert.match(
    r.output,
    /lnkitd could not start: chain-tip record written by version 4 needs a reader of version 3 or newer; this lnkit reads up to version 1/,
  );
  assert.doesNotMatch(r.output, /\n\s+at /);
});
