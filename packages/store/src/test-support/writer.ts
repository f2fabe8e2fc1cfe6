// Child process for the durability test: writes records one after another and prints
// "acked N" only after the write's promise resolved. The parent SIGKILLs it at random.
import { Store } from '../index.ts';

const [dataDir, mode] = process.argv.slice(2) as [string, string];
const store = await Store.open(dataDir, { schemaVersion: 1 });
const db = store.db('records');
for (let i = 0; ; i++) {
  const value = new Uint8Array(256).fill(i & 0xff);
  if (mode === 'txn') {
    // Two databases, one atomic commit: both keys or neither.
    await store.transaction((t) => {
      t.put('records', `r${i}`, value);
      t.put('index', `r${i}`, new Uint8Array([i & 0xff]));
    });
  } else {
    await db.put(`r${i}`, value);
  }
  process.stdout.write(`acked ${i}\n`);
}
