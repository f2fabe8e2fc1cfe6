/**
 * The manager's link to the peer actor: nothing flows until step 13 attaches the actor; when
 * the actor's streams fail (its worker crashed), each connected peer is said disconnected and
 * the streams are opened again on the restarted actor; detached, the streams end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerLink, PeerLinkEvent } from '@lnkit/manager';
import { captureLogger, waitFor } from '@lnkit/test-support';
import { Subject } from 'rxjs';
import { NodeError } from './errors.ts';
import { DeferredPeerLink } from './peer-link.ts';

const A = `02${'aa'.repeat(32)}`;
const B = `03${'bb'.repeat(32)}`;

/** A peer actor whose streams the test drives; each subscription gets a fresh subject (a fresh incarnation's). */
function fakePeers() {
  const events: Subject<PeerLinkEvent>[] = [];
  const messages: Subject<{ nodeId: string; raw: Uint8Array }>[] = [];
  const peers: PeerLink = {
    send: async () => undefined,
    events$: () => {
      const s = new Subject<PeerLinkEvent>();
      events.push(s);
      return s;
    },
    messages$: () => {
      const s = new Subject<{ nodeId: string; raw: Uint8Array }>();
      messages.push(s);
      return s;
    },
    listPeers: () => [{ nodeId: A, features: { hex: '' } }],
  };
  return { peers, events, messages };
}

test('nothing before attach; after a failed stream, every connected peer is said disconnected and the stream reopens', async () => {
  const log = captureLogger();
  const link = new DeferredPeerLink(log.logger);
  const seen: PeerLinkEvent[] = [];
  const raws: string[] = [];
  link.events$().subscribe((e) => seen.push(e));
  link.messages$([32]).subscribe((m) => raws.push(Buffer.from(m.raw).toString('hex')));
  assert.deepEqual(await link.listPeers(), []);
  await assert.rejects(
    link.send(A, new Uint8Array([0, 1])),
    (e: Error) => e instanceof NodeError && e.code === 'peer-not-connected',
  );

  const fake = fakePeers();
  const attached = link.attach(fake.peers);
  assert.equal((await link.listPeers()).length, 1);
  fake.events[0]?.next({ type: 'connected', nodeId: A, features: { hex: '' } });
  fake.events[0]?.next({ type: 'connected', nodeId: B, features: { hex: '' } });
  fake.events[0]?.next({ type: 'disconnected', nodeId: B });
  fake.messages[0]?.next({ nodeId: A, raw: Uint8Array.of(0, 32) });

  // The worker crashed: both streams fail.
  fake.events[0]?.error(new Error('worker exited'));
  fake.messages[0]?.error(new Error('worker exited'));
  assert.deepEqual(seen.at(-1), { type: 'disconnected', nodeId: A }, 'A was connected: said gone');
  assert.equal(seen.filter((e) => e.type === 'disconnected' && e.nodeId === B).length, 1, 'B only once');
  await waitFor(() => fake.events.length === 2 && fake.messages.length === 2, {
    what: 'both streams reopened',
  });
  assert.ok(
    log.lines.some((l) => /event stream to the channel manager ended \(worker exited\)/.test(String(l.msg))),
  );
  fake.events[1]?.next({ type: 'connected', nodeId: A, features: { hex: '' } });
  fake.messages[1]?.next({ nodeId: A, raw: Uint8Array.of(0, 33) });
  assert.deepEqual(seen.at(-1), { type: 'connected', nodeId: A, features: { hex: '' } });
  assert.deepEqual(raws, ['0020', '0021']);

  attached.unsubscribe();
  assert.equal(fake.events[1]?.observed, false, 'detached: the stream is closed');
  assert.deepEqual(await link.listPeers(), []);
});
