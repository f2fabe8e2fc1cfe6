/**
 * The peer directory's rules, fed explicit inputs and times: no sockets, no timers, no
 * waiting. Each test states a rule; the last one drives random sequences and checks the
 * invariants after every step.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PeerNetError } from './errors.ts';
import {
  type ConnectionId,
  type DirectoryEffect,
  PeerDirectory,
  type PeerDirectoryOptions,
} from './peer-directory.ts';

const A = `02${'aa'.repeat(32)}`;
const B = `03${'bb'.repeat(32)}`;
const HOME = { host: '127.0.0.1', port: 9735 };
const ELSEWHERE = { host: '10.0.0.2', port: 9735 };
/** 1 s doubling to 8 s; stable after 30 s; no jitter, so every delay is exact. */
const POLICY = { initialDelayMs: 1000, maxDelayMs: 8000, stableAfterMs: 30_000, jitter: 0 };

function directory(over: Partial<PeerDirectoryOptions> = {}): PeerDirectory {
  return new PeerDirectory({ policy: POLICY, random: () => 0, ...over });
}

/** Effects as short strings, in order: easy to compare whole. */
function show(effects: DirectoryEffect[]): string[] {
  return effects.map(showOne);
}

function showOne(e: DirectoryEffect): string {
  switch (e.kind) {
    case 'dial':
      return `dial #${e.connection} ${e.address.host}:${e.address.port}`;
    case 'close':
      return `close #${e.connection} ${e.code ?? 'clean'}`;
    case 'schedule-redial':
      return `redial at ${e.at} (+${e.delayMs})`;
    case 'cancel-redial':
      return 'cancel-redial';
    case 'connected':
      return `connected #${e.connection}`;
    case 'disconnected':
      return `disconnected #${e.connection} ${e.code ?? 'clean'}`;
  }
}

function dialOf(effects: DirectoryEffect[]): ConnectionId {
  const d = effects.find((e) => e.kind === 'dial');
  assert.ok(d?.kind === 'dial', `expected a dial in ${show(effects).join(', ')}`);
  return d.connection;
}

/** Dials and completes a connection at `now`; returns its id. */
function connected(d: PeerDirectory, nodeId: string, now: number, persistent = false): ConnectionId {
  const r = d.connect(nodeId, HOME, { persistent }, now);
  assert.deepEqual(show(d.ready(r.connection, now)), [`connected #${r.connection}`]);
  return r.connection;
}

test('connect dials once; init makes it the current connection; a second connect gets it at once', () => {
  const d = directory();
  const r = d.connect(A, HOME, {}, 0);
  assert.deepEqual(show(r.effects), [`dial #${r.connection} 127.0.0.1:9735`]);
  assert.equal(r.ready, false);
  assert.equal(d.current(A), undefined, 'not connected before init');
  // A second connect while that dial is under way joins it: no second socket.
  const again = d.connect(A, HOME, {}, 5);
  assert.deepEqual([again.connection, again.ready, again.effects], [r.connection, false, []]);
  assert.deepEqual(show(d.ready(r.connection, 10)), [`connected #${r.connection}`]);
  assert.equal(d.current(A), r.connection);
  assert.deepEqual(d.connected(), [{ nodeId: A, connection: r.connection }]);
  const third = d.connect(A, ELSEWHERE, {}, 20);
  assert.deepEqual([third.connection, third.ready, third.effects], [r.connection, true, []]);
  // A connect to another address while a dial is under way is a dial of its own.
  const e = d.connect(B, HOME, {}, 30);
  const f = d.connect(B, ELSEWHERE, {}, 31);
  assert.notEqual(e.connection, f.connection);
  assert.deepEqual(show(f.effects), [`dial #${f.connection} 10.0.0.2:9735`]);
});

test('newer wins: an inbound connection that completes init replaces the outbound one', () => {
  const d = directory();
  const out = connected(d, A, 0);
  const inb = d.inboundOpened(A, 100);
  // Until its init, the new connection changes nothing.
  assert.equal(d.current(A), out);
  assert.deepEqual(show(d.ready(inb, 110)), [
    `close #${out} disconnected`,
    `disconnected #${out} disconnected`,
    `connected #${inb}`,
  ]);
  assert.equal(d.current(A), inb);
  const replaced = d.ready(inb, 110).length;
  assert.equal(replaced, 0, 'init reported twice is no news');
});

test('newer wins: an outbound connection that completes init replaces the inbound one', () => {
  const d = directory();
  // Both sides dialling at once: our dial was under way when the peer's connection arrived.
  const dialling = dialOf(d.connect(A, HOME, {}, 0).effects);
  const inbound = d.inboundOpened(A, 1);
  assert.deepEqual(show(d.ready(inbound, 2)), [`connected #${inbound}`]);
  assert.equal(d.connect(A, HOME, {}, 2).ready, true, 'connected: a connect dials nothing more');
  assert.deepEqual(show(d.ready(dialling, 3)), [
    `close #${inbound} disconnected`,
    `disconnected #${inbound} disconnected`,
    `connected #${dialling}`,
  ]);
  assert.equal(d.current(A), dialling);
  assert.equal(d.connection(dialling)?.inbound, false);
});

test('a stale close from the replaced connection does not drop the new one', () => {
  const d = directory();
  const old = connected(d, A, 0, true);
  const fresh = d.inboundOpened(A, 10);
  d.ready(fresh, 20);
  // The replaced socket's close arrives later (it was half-open, or just slow to close).
  assert.deepEqual(show(d.closed(old, 30, 'disconnected', 'replaced by a newer connection')), []);
  assert.equal(d.current(A), fresh);
  assert.deepEqual(d.peer(A)?.persistent?.redialAt, undefined, 'no redial: the peer is connected');
  // The new connection's own close is a disconnect, once.
  assert.deepEqual(show(d.closed(fresh, 40, undefined, 'connection closed')), [
    `disconnected #${fresh} clean`,
    'redial at 1040 (+1000)',
  ]);
  assert.deepEqual(show(d.closed(fresh, 41, undefined, 'connection closed')), [], 'reported twice');
});

test('persistent peer: redials back off 1, 2, 4, 8, 8 s from each failure, at the times given', () => {
  const d = directory();
  const first = connected(d, A, 0, true);
  let now = 5000;
  // Up 5 s, less than stableAfterMs: a drop, then the first redial after the first delay.
  let fx = d.closed(first, now, undefined, 'connection closed');
  assert.deepEqual(show(fx), [`disconnected #${first} clean`, 'redial at 6000 (+1000)']);
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const due = fx.find((e) => e.kind === 'schedule-redial');
    assert.ok(due?.kind === 'schedule-redial');
    delays.push(due.delayMs);
    now = due.at;
    const dial = d.redialDue(A, now);
    assert.deepEqual(show(dial), [`dial #${dialOf(dial)} 127.0.0.1:9735`]);
    // The dial fails 100 ms later (refused, or the handshake failed): no event, the next redial.
    now += 100;
    fx = d.closed(dialOf(dial), now, 'connect-failed', 'refused');
    assert.ok(!fx.some((e) => e.kind === 'connected' || e.kind === 'disconnected'));
  }
  const last = fx.find((e) => e.kind === 'schedule-redial');
  assert.ok(last?.kind === 'schedule-redial');
  delays.push(last.delayMs);
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 8000, 8000]);
  assert.equal(last.at, now + 8000);
  assert.equal(d.peer(A)?.persistent?.failures, 6);
});

test('persistent peer: the backoff resets only after a connection that stayed up stableAfterMs', () => {
  const d = directory();
  const c1 = connected(d, A, 0, true);
  // Three short-lived connections (the peer accepts, then drops us): the streak grows.
  let now = 100;
  let fx = d.closed(c1, now, undefined, 'gone');
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const s = fx.find((e) => e.kind === 'schedule-redial');
    assert.ok(s?.kind === 'schedule-redial');
    seen.push(s.delayMs);
    now = s.at;
    const id = dialOf(d.redialDue(A, now));
    assert.deepEqual(show(d.ready(id, now + 10)), [`connected #${id}`]);
    now += 10 + 29_999; // up one millisecond short of stable
    fx = d.closed(id, now, undefined, 'gone');
  }
  const s = fx.find((e) => e.kind === 'schedule-redial');
  assert.ok(s?.kind === 'schedule-redial');
  seen.push(s.delayMs);
  assert.deepEqual(seen, [1000, 2000, 4000, 8000]);
  // Now one that stays up exactly stableAfterMs: the next drop starts again at the first delay.
  now = s.at;
  const stable = dialOf(d.redialDue(A, now));
  d.ready(stable, now);
  fx = d.closed(stable, now + 30_000, undefined, 'gone');
  assert.deepEqual(show(fx), [`disconnected #${stable} clean`, `redial at ${now + 31_000} (+1000)`]);
});

test('user disconnect cancels a pending redial, and a timer that fires anyway does nothing', () => {
  const d = directory();
  const c = connected(d, A, 0, true);
  d.closed(c, 10, undefined, 'gone');
  assert.equal(d.peer(A)?.persistent?.redialAt, 1010);
  const { closing, effects } = d.disconnect(A);
  assert.deepEqual([closing, show(effects)], [[], ['cancel-redial']]);
  assert.equal(d.peer(A), undefined, 'the peer is forgotten');
  assert.deepEqual(d.redialDue(A, 1010), [], 'a late timer');
});

test('user disconnect closes the current connection and a redial under way; neither redials', () => {
  const d = directory();
  const c = connected(d, A, 0, true);
  const inbound = d.inboundOpened(A, 5);
  const { closing, effects } = d.disconnect(A);
  assert.deepEqual(closing, [c, inbound]);
  assert.deepEqual(show(effects), [`close #${c} clean`, `close #${inbound} clean`]);
  // The inbound one was told to close: its init, if it comes first, does not make it current.
  assert.deepEqual(d.ready(inbound, 6), []);
  assert.deepEqual(show(d.closed(c, 7, undefined, 'connection closed')), [`disconnected #${c} clean`]);
  assert.deepEqual(show(d.closed(inbound, 8, undefined, 'connection closed')), []);
  assert.equal(d.peer(A), undefined);

  // The same with a redial dial under way.
  const e = directory();
  const c2 = connected(e, B, 0, true);
  const fx = e.closed(c2, 10, undefined, 'gone');
  assert.deepEqual(show(fx).at(-1), 'redial at 1010 (+1000)');
  const dial = dialOf(e.redialDue(B, 1010));
  assert.deepEqual(show(e.disconnect(B).effects), [`close #${dial} clean`]);
  assert.deepEqual(show(e.closed(dial, 1020, 'connect-failed', 'aborted')), []);
  assert.equal(e.peer(B), undefined);
});

test('a failed first connect is not made persistent; a remembered peer is, and is redialled', () => {
  const d = directory();
  const r = d.connect(A, HOME, { persistent: true }, 0);
  assert.equal(d.peer(A)?.persistent, undefined, 'not before it is reached');
  assert.deepEqual(show(d.closed(r.connection, 50, 'connect-failed', 'refused')), []);
  assert.equal(d.peer(A), undefined, 'nothing left redialling');

  // The same connect that succeeds makes it persistent at that address.
  const ok = d.connect(A, HOME, { persistent: true }, 100);
  d.ready(ok.connection, 110);
  assert.deepEqual(d.peer(A)?.persistent, { address: HOME, failures: 0, redialAt: undefined });
  // Once persistent, a failed connect to a new address neither forgets it nor moves it.
  const moved = d.connect(B, ELSEWHERE, { persistent: true }, 120);
  d.closed(moved.connection, 130, 'connect-failed', 'refused');
  assert.equal(d.peer(B), undefined);

  // A peer the caller remembers from an earlier run: persistent before the dial, redialled after it fails.
  const m = d.connect(B, HOME, { persistent: true, remembered: true }, 200);
  assert.deepEqual(d.peer(B)?.persistent, { address: HOME, failures: 0, redialAt: undefined });
  assert.deepEqual(show(d.closed(m.connection, 250, 'connect-failed', 'refused')), [
    'redial at 1250 (+1000)',
  ]);
});

test('connect({ persistent }) on a connected peer makes it persistent at once', () => {
  const d = directory();
  const c = connected(d, A, 0);
  const r = d.connect(A, ELSEWHERE, { persistent: true }, 10);
  assert.deepEqual([r.ready, r.connection], [true, c]);
  assert.deepEqual(d.peer(A)?.persistent?.address, ELSEWHERE);
  assert.deepEqual(show(d.closed(c, 20, undefined, 'gone')), [
    `disconnected #${c} clean`,
    'redial at 1020 (+1000)',
  ]);
  assert.deepEqual(
    show(d.redialDue(A, 1020)).map((s) => s.replace(/#\d+/, '#')),
    ['dial # 10.0.0.2:9735'],
  );
});

test('a redial waits while the peer is dialling us, and follows if that connection fails', () => {
  const d = directory();
  const c = connected(d, A, 0, true);
  d.closed(c, 10, undefined, 'gone');
  const inbound = d.inboundOpened(A, 500);
  assert.deepEqual(d.redialDue(A, 1010), [], 'no second socket while one is opening');
  assert.deepEqual(show(d.closed(inbound, 1500, 'timeout', 'no init')), ['redial at 3500 (+2000)']);
  // And a user dial that succeeds while a redial is pending cancels it.
  const r = d.connect(A, HOME, {}, 2000);
  assert.deepEqual(show(d.ready(r.connection, 2010)), ['cancel-redial', `connected #${r.connection}`]);
  assert.equal(d.peer(A)?.persistent?.redialAt, undefined);
});

test('shutdown closes every connection, cancels redials and emits nothing after', () => {
  const d = directory();
  const a = connected(d, A, 0, true);
  const b = connected(d, B, 0, true);
  d.closed(b, 5, undefined, 'gone');
  const dialling = dialOf(d.connect(B, HOME, {}, 6).effects);
  assert.deepEqual(show(d.shutdown()), ['cancel-redial', `close #${a} closed`, `close #${dialling} closed`]);
  assert.deepEqual(d.closed(a, 7, 'closed', 'peer manager closed'), []);
  assert.deepEqual(d.closed(dialling, 8, 'closed', 'peer manager closed'), []);
  assert.deepEqual(d.redialDue(B, 1005), []);
  assert.throws(
    () => d.connect(A, HOME, {}, 9),
    (e: unknown) => e instanceof PeerNetError && e.code === 'closed',
  );
});

/** xorshift32: the same sequence every run, so a failure is reproducible. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('random sequences: one current connection per peer, events alternate, persistent peers always have a way back', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prng(seed);
    const pick = <T>(xs: readonly T[]): T | undefined => xs[Math.floor(rnd() * xs.length)];
    const d = directory({ random: rnd, policy: { ...POLICY, jitter: 0.2 } });
    const nodes = [A, B];
    /** What the peer's events say: the connection it is on, or undefined. */
    const shown = new Map<string, ConnectionId | undefined>();
    const live = new Set<ConnectionId>();
    const redials = new Map<string, number>();
    let now = 0;
    const apply = (fx: DirectoryEffect[], step: string) => {
      for (const e of fx) {
        const where = `seed ${seed}, ${step}: ${show(fx).join(', ')}`;
        if (e.kind === 'dial') live.add(e.connection);
        if (e.kind === 'schedule-redial') {
          assert.ok(e.at >= now && e.delayMs <= POLICY.maxDelayMs, where);
          redials.set(e.nodeId, e.at);
        }
        if (e.kind === 'cancel-redial') redials.delete(e.nodeId);
        if (e.kind === 'connected') {
          assert.equal(shown.get(e.nodeId), undefined, `connected twice: ${where}`);
          shown.set(e.nodeId, e.connection);
        }
        if (e.kind === 'disconnected') {
          assert.equal(shown.get(e.nodeId), e.connection, `disconnect of a connection not shown: ${where}`);
          shown.set(e.nodeId, undefined);
        }
      }
    };
    for (let step = 0; step < 60; step++) {
      now += Math.floor(rnd() * 3000);
      const node = pick(nodes)!;
      const op = Math.floor(rnd() * 7);
      const ids = [...live];
      if (op === 0) {
        const r = d.connect(node, rnd() < 0.5 ? HOME : ELSEWHERE, { persistent: rnd() < 0.6 }, now);
        apply(r.effects, 'connect');
      } else if (op === 1) {
        live.add(d.inboundOpened(node, now));
      } else if (op === 2) {
        const id = pick(ids);
        if (id !== undefined) apply(d.ready(id, now), `ready #${id}`);
      } else if (op === 3 || op === 4) {
        const id = pick(ids);
        if (id !== undefined) {
          live.delete(id);
          apply(d.closed(id, now, undefined, 'gone'), `closed #${id}`);
        }
      } else if (op === 5) {
        const at = redials.get(node);
        if (at !== undefined) {
          now = Math.max(now, at);
          redials.delete(node);
          apply(d.redialDue(node, now), 'redial due');
        }
      } else {
        apply(d.disconnect(node).effects, 'disconnect');
      }
      for (const n of nodes) {
        const p = d.peer(n);
        // The events tell the truth about which connection is current.
        assert.equal(shown.get(n), p?.current, `seed ${seed} step ${step}: events vs directory`);
        // A persistent peer with no connection at all always has a redial pending.
        if (p?.persistent && p.current === undefined && p.others.length === 0)
          assert.ok(
            p.persistent.redialAt !== undefined,
            `seed ${seed} step ${step}: persistent peer stranded`,
          );
        if (p?.persistent?.redialAt !== undefined) assert.equal(redials.get(n), p.persistent.redialAt);
      }
    }
  }
});
