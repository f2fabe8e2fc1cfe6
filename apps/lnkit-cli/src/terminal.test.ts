import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forTerminal, jsonForTerminal } from './terminal.ts';

test('forTerminal keeps line breaks and escapes every other control character', () => {
  assert.equal(forTerminal('a\nb'), 'a\nb');
  assert.equal(forTerminal('\x1b[2J\x07\x00\x7f'), '\\x1b[2J\\x07\\x00\\x7f');
  // C1 CSI (a terminal may read it as ESC [), and a right-to-left override that reorders what is seen.
  assert.equal(forTerminal('x\u009b2Jy\u202e'), 'x\\x9b2Jy\\u202e');
  assert.equal(forTerminal('café ⚡'), 'café ⚡');
});

test('jsonForTerminal is the same JSON value, with no raw control character left', () => {
  const value = { description: 'tea\u009b2J\u2028\u202e', n: 1, nested: ['\x7f'] };
  const out = jsonForTerminal(JSON.stringify(value));
  assert.deepEqual(JSON.parse(out), value);
  assert.ok(
    ![...out].some((c) => c.charCodeAt(0) < 0x20 || (c >= '\x7f' && c <= '\x9f') || c === '\u202e'),
    out,
  );
});
