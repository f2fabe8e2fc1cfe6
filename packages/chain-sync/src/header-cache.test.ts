import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BlockHeaderData } from './block-source.ts';
import { HeaderCache } from './header-cache.ts';

const header = (n: number): BlockHeaderData => ({
  hashHex: n.toString(16).padStart(64, '0'),
  prevHashHex: (n - 1).toString(16).padStart(64, '0'),
  height: n,
  header: new Uint8Array(80),
  time: n,
});

test('bounded: past its capacity the oldest inserted header goes first; re-adding changes nothing', () => {
  const cache = new HeaderCache(2);
  cache.set(header(1));
  cache.set(header(2));
  cache.set(header(1)); // already there: keeps its place, no growth
  assert.equal(cache.size, 2);
  cache.set(header(3));
  assert.equal(cache.size, 2);
  assert.equal(cache.get(header(1).hashHex), undefined);
  assert.equal(cache.get(header(2).hashHex)?.height, 2);
  assert.equal(cache.get(header(3).hashHex)?.height, 3);
});
