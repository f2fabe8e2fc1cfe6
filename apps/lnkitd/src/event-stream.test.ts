/**
 * GET /v1/events over a node whose event log the test writes: the replay (pending, since,
 * Last-Event-ID) then the live events, none lost or doubled when one is recorded while the
 * replay is read; heartbeats; the subscription dropped when the client goes, when it is too slow,
 * and the stream ended when the node's ends; the token checked as for every endpoint.
 */
import assert from 'node:assert/strict';
import { type IncomingMessage, request } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, test } from 'node:test';
import type { LnkitNode } from '@lnkit/node';
import { captureLogger, nextEvent, waitFor } from '@lnkit/test-support';
import { createApiServer } from './api.ts';
import type { EventSource, NodeEventRecord, NodeEvents } from './channel-node.ts';
import { sseEvent } from './event-stream.ts';

const TOKEN = '12'.repeat(32);

/** A node's event log: records kept in order, `handled` up to a seq, observers of new ones. */
class FakeEvents implements NodeEvents {
  readonly records: NodeEventRecord[] = [];
  handledUpTo = 0;
  readonly observers = new Set<Parameters<EventSource['subscribe']>[0]>();
  readonly asked: unknown[][] = [];
  /** Called while a replay is being read (after the stream subscribed, before it got the records). */
  duringReplay: (() => void) | undefined;

  readonly stream$: EventSource = {
    subscribe: (o) => {
      this.observers.add(o);
      return { unsubscribe: () => this.observers.delete(o) };
    },
  };

  record(kind: string, data: NodeEventRecord['data'] = {}): NodeEventRecord {
    const r = { seq: this.records.length + 1, at: new Date(0).toISOString(), kind, data };
    this.records.push(r);
    for (const o of this.observers) o.next(r);
    return r;
  }

  /** Reads after `duringReplay`: an event recorded then is in both the replay and the live stream. */
  async pending(): Promise<NodeEventRecord[]> {
    this.asked.push(['pending']);
    this.duringReplay?.();
    return this.records.filter((r) => r.seq > this.handledUpTo);
  }

  /** What it read first, then `duringReplay`: an event recorded then is in the live stream only. */
  async since(seq: number): Promise<NodeEventRecord[]> {
    this.asked.push(['since', seq]);
    const read = this.records.filter((r) => r.seq > seq);
    this.duringReplay?.();
    return read;
  }

  end(): void {
    for (const o of this.observers) o.complete?.();
  }
}

let events: FakeEvents;
let base = '';
let close: () => Promise<void>;
before(async () => {
  events = new FakeEvents();
  const node = { nodeId: `02${'11'.repeat(32)}`, events } as unknown as LnkitNode;
  const server = createApiServer({
    node,
    token: TOKEN,
    logger: captureLogger().logger,
    eventStream: { heartbeatMs: 30, maxBufferedBytes: 64 * 1024 },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
});
after(() => close());

interface Sse {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** An open stream: its response, the events and comments parsed so far, and a way to hang up. */
async function open(path = '/v1/events', headers: Record<string, string> = {}) {
  const req = request(`${base}${path}`, {
    headers: { authorization: `Bearer ${TOKEN}`, ...headers },
    agent: false,
  });
  req.end();
  const res = await nextEvent<IncomingMessage>(req, 'response', undefined, { what: 'the stream to answer' });
  const got: Sse[] = [];
  let buffer = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e: Sse = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) e.comment = line.slice(1).trim();
        else {
          const i = line.indexOf(': ');
          (e as Record<string, string>)[line.slice(0, i)] = line.slice(i + 2);
        }
      }
      got.push(e);
    }
  });
  const ended = new Promise<void>((r) => res.once('close', r));
  return { res, got, ended, hangUp: () => req.destroy() };
}

const eventsOf = (got: Sse[]) => got.filter((e) => e.id !== undefined);
const seqs = (got: Sse[]) => eventsOf(got).map((e) => Number(e.id));

test('the pending events, then the live ones, each as id / event / data', async () => {
  events.record('ChannelPending', { channelId: 'aa', fundingTxid: 'bb' });
  events.record('ChannelReady', { channelId: 'aa', shortChannelId: '1x2x3' });
  events.handledUpTo = 1;
  const s = await open();
  assert.equal(s.res.statusCode, 200);
  assert.match(String(s.res.headers['content-type']), /^text\/event-stream/);
  assert.equal(s.res.headers['content-length'], undefined);
  await waitFor(() => seqs(s.got).length === 1 || undefined, { what: 'the pending event' });
  events.record('ChannelClosed', { channelId: 'aa', reason: 'cooperative close', fundingSpent: true });
  await waitFor(() => seqs(s.got).length === 2 || undefined, { what: 'the live event' });
  const [ready, closed] = eventsOf(s.got);
  assert.deepEqual(ready, {
    id: '2',
    event: 'ChannelReady',
    data: JSON.stringify(events.records[1]),
  });
  assert.equal(closed!.event, 'ChannelClosed');
  assert.deepEqual(JSON.parse(closed!.data!), events.records[2]);
  s.hangUp();
  await s.ended;
  await waitFor(() => events.observers.size === 0 || undefined, { what: 'the subscription dropped' });
});

test('Last-Event-ID and ?since= replay what came after; the header wins; bad ones are a 400 naming them', async () => {
  events.asked.length = 0;
  const byHeader = await open('/v1/events?since=0', { 'last-event-id': '1' });
  const bySince = await open('/v1/events?since=2');
  await waitFor(() => (seqs(byHeader.got).length === 2 && seqs(bySince.got).length === 1) || undefined, {
    what: 'both replays',
  });
  assert.deepEqual(seqs(byHeader.got), [2, 3]);
  assert.deepEqual(seqs(bySince.got), [3]);
  assert.deepEqual(events.asked.sort(), [
    ['since', 1],
    ['since', 2],
  ]);
  byHeader.hangUp();
  bySince.hangUp();
  await Promise.all([byHeader.ended, bySince.ended]);

  for (const [path, headers, param] of [
    ['/v1/events?since=-1', {}, 'since'],
    ['/v1/events?since=x', {}, 'since'],
    ['/v1/events', { 'last-event-id': '1e3' }, 'Last-Event-ID'],
  ] as const) {
    const s = await open(path, headers);
    const text = await new Promise<string>((r) => {
      let t = '';
      s.res.on('data', (c: string) => (t += c));
      s.res.on('end', () => r(t));
    });
    assert.equal(s.res.statusCode, 400, path);
    assert.match(JSON.parse(text).error.message, new RegExp(`parameter "${param}"`));
  }
  await waitFor(() => events.observers.size === 0 || undefined, { what: 'no subscription left' });
});

test('an event recorded while the replay is read comes once, in order', async () => {
  const meanwhile = () => {
    events.duringReplay = undefined;
    events.record('FundingGenerationReady', { amountSat: 1000 });
  };
  // since(): read before the event was recorded, so only the live stream has it.
  let first = events.records.length + 1;
  events.duringReplay = meanwhile;
  const s = await open(`/v1/events?since=${first - 1}`);
  await waitFor(() => seqs(s.got).length === 1 || undefined, { what: 'the event recorded meanwhile' });
  events.record('ChannelPending', {});
  await waitFor(() => seqs(s.got).length === 2 || undefined, { what: 'the next live one' });
  assert.deepEqual(seqs(s.got), [first, first + 1]);
  s.hangUp();
  await s.ended;

  // pending(): read after it, so both have it.
  events.handledUpTo = events.records.length;
  first = events.records.length + 1;
  events.duringReplay = meanwhile;
  const p = await open();
  await waitFor(() => seqs(p.got).length === 1 || undefined, { what: 'the event recorded meanwhile' });
  events.record('ChannelPending', {});
  await waitFor(() => seqs(p.got).length === 2 || undefined, { what: 'the next live one' });
  assert.deepEqual(seqs(p.got), [first, first + 1]);
  p.hangUp();
  await p.ended;
});

test('heartbeats are comments; the stream ends when the node stops', async () => {
  const s = await open(`/v1/events?since=${events.records.length}`);
  await waitFor(() => s.got.find((e) => e.comment === 'heartbeat'), { what: 'a heartbeat' });
  assert.deepEqual(eventsOf(s.got), []);
  events.end();
  await s.ended;
  assert.equal(s.res.complete, true, 'ended by the server, not cut');
  await waitFor(() => events.observers.size === 0 || undefined, { what: 'the subscription dropped' });
});

test('no token: a 401, and nothing subscribed', async () => {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(`${base}/v1/events`, { agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
  res.resume();
  assert.equal(res.statusCode, 401);
  assert.equal(events.observers.size, 0);
});

test('a client that does not read is cut once it leaves too much unread, and unsubscribed', async () => {
  const s = await open(`/v1/events?since=${events.records.length}`);
  await waitFor(() => s.got.length > 0 || undefined, { what: 'the stream open' });
  s.res.pause();
  const big = 'x'.repeat(16 * 1024);
  // Far more than the socket buffers on both ends hold: the server's own buffer must grow.
  for (let i = 0; i < 2000 && events.observers.size > 0; i++) events.record('Big', { big });
  await waitFor(() => events.observers.size === 0 || undefined, { what: 'the slow client cut' });
  s.res.resume();
  await s.ended;
});

test("a stream outlives the API's request timeouts (they bound receiving a request, not answering it)", async () => {
  const own = new FakeEvents();
  const server = createApiServer({
    node: { nodeId: `02${'11'.repeat(32)}`, events: own } as unknown as LnkitNode,
    token: TOKEN,
    logger: captureLogger().logger,
    limits: { headersTimeoutMs: 100, requestTimeoutMs: 200, keepAliveTimeoutMs: 100 },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const req = request(`http://127.0.0.1:${port}/v1/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      agent: false,
    });
    req.end();
    const res = await nextEvent<IncomingMessage>(req, 'response', undefined, { what: 'the stream' });
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (c: string) => (text += c));
    await waitFor(() => own.observers.size === 1 || undefined, { what: 'the stream subscribed' });
    // Held until a connection that sent nothing was cut: the timeouts have been checked since.
    const idle = connect(port, '127.0.0.1');
    idle.on('error', () => {});
    idle.resume();
    await nextEvent(idle, 'close', undefined, { what: 'an idle connection to be cut' });
    own.record('ChannelReady', { channelId: 'aa' });
    await waitFor(() => text.includes('event: ChannelReady') || undefined, {
      what: 'the event, after the timeouts',
    });
    req.destroy();
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('sseEvent: a kind cannot end the event early', () => {
  assert.equal(
    sseEvent({ seq: 7, at: 'T', kind: 'A\nid: 9', data: { n: 1 } }),
    `id: 7\nevent: A id: 9\ndata: {"seq":7,"at":"T","kind":"A\\nid: 9","data":{"n":1}}\n\n`,
  );
});
