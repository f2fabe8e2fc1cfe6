// Child process: tries to open a store and prints the StoreError code (or "opened").
import { Store, StoreError } from '../index.ts';

try {
  const s = await Store.open(process.argv[2]!, { schemaVersion: 1 });
  await s.close();
  process.stdout.write('opened\n');
} catch (e) {
  process.stdout.write(`${e instanceof StoreError ? e.code : `untyped ${(e as Error).message}`}\n`);
}
