import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as wire from './index.ts';

// The package is used through its index: every message codec must be reachable there
// under the camelCase of its protocol name.
test('the public index exports every message codec and the message dispatch', () => {
  const exported = wire as unknown as Record<string, unknown>;
  for (const codec of wire.MESSAGE_CODECS) {
    const name =
      codec.kind === 'error' ? 'error' : codec.kind.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    assert.equal(exported[name], codec, `${codec.kind} exported as ${name}`);
  }
  assert.equal(wire.MESSAGE_CODECS.length, 49);
  for (const f of [
    'encodeMessage',
    'decodeMessage',
    'channelUpdateSignedBytes',
    'nodeAnnouncementSignedBytes',
    'channelAnnouncementSignedBytes',
    'validateFeatures',
  ]) {
    assert.equal(typeof exported[f], 'function', f);
  }
});
