/**
 * GET /v1/events: the node's events as server-sent events (WHATWG HTML, "Server-sent events").
 * Each is `id: <seq>`, `event: <kind>`, `data: <the record as JSON>`. A client that reconnects
 * sends the last id it saw as `Last-Event-ID` and gets what came after; `?since=SEQ` asks the
 * same on a first connection; with neither, the events not yet handled come first. Then the
 * stream goes on live, with a comment line as a heartbeat so that proxies and the client can
 * tell a quiet stream from a dead one.
 */
import type { ServerResponse } from 'node:http';
import type { NodeEventRecord, NodeEvents } from './channel-node.ts';

export interface EventStreamOptions {
  /** Between heartbeat comments (default 15 s). */
  heartbeatMs?: number;
  /**
   * Bytes the client may leave unread; past it the stream is cut (a client too slow for the
   * node's events reconnects with Last-Event-ID and loses nothing). Default 1 MiB.
   */
  maxBufferedBytes?: number;
}

/** What starts the stream once the request passed the API's checks (auth, method). */
export class EventStreamStart {
  constructor(readonly afterSeq: number | undefined) {}
}

const SEQ = /^[0-9]{1,15}$/;

/**
 * The seq to replay after: `Last-Event-ID` (a reconnecting client's own progress, so it wins)
 * or `?since=`; undefined for neither. A bad value is named by `fail`.
 */
export function replayFrom(
  lastEventId: string | string[] | undefined,
  since: string | null,
  fail: (param: string, what: string) => Error,
): number | undefined {
  const header = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
  if (header !== undefined && header.trim() !== '') {
    if (!SEQ.test(header.trim()))
      throw fail(
        'Last-Event-ID',
        `must be an event id (a whole number); got ${JSON.stringify(header).slice(0, 80)}`,
      );
    return Number(header.trim());
  }
  if (since !== null) {
    if (!SEQ.test(since))
      throw fail('since', `must be an event seq (a whole number); got ${JSON.stringify(since).slice(0, 80)}`);
    return Number(since);
  }
  return undefined;
}

/** One event in the wire form: a kind with a line break in it would end the event early. */
export function sseEvent(r: NodeEventRecord): string {
  const kind = r.kind.replace(/[\r\n]/g, ' ');
  return `id: ${r.seq}\nevent: ${kind}\ndata: ${JSON.stringify(r)}\n\n`;
}

/**
 * Streams `events` on `res` until the client goes or the node's stream ends. Subscribes before
 * reading the replay, so an event recorded in between is neither lost nor sent twice.
 */
export async function streamEvents(
  res: ServerResponse,
  events: NodeEvents,
  afterSeq: number | undefined,
  opts: EventStreamOptions = {},
): Promise<void> {
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  let lastSent = afterSeq ?? -1;
  let live = false;
  const early: NodeEventRecord[] = [];
  let closed = false;

  const write = (r: NodeEventRecord) => {
    if (closed || r.seq <= lastSent) return;
    lastSent = r.seq;
    res.write(sseEvent(r));
    if (res.writableLength > maxBuffered) res.destroy();
  };
  const subscription = events.stream$.subscribe({
    next: (r) => (live ? write(r) : early.push(r)),
    error: () => res.end(),
    complete: () => res.end(),
  });
  const heartbeat = setInterval(() => {
    if (!closed) res.write(': heartbeat\n\n');
  }, heartbeatMs);
  heartbeat.unref();
  const cleanUp = () => {
    if (closed) return;
    closed = true;
    clearInterval(heartbeat);
    subscription.unsubscribe();
  };
  // The response's 'close' comes when the client hangs up (the request's own comes as soon as
  // its empty body is read, so it says nothing here).
  res.once('close', cleanUp);

  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  // The status line and a first comment now: the client knows the stream is open.
  res.write(': lnkitd events\n\n');
  let replay: NodeEventRecord[];
  try {
    replay = await (afterSeq === undefined ? events.pending() : events.since(afterSeq));
  } catch (e) {
    // Headers are out: all that can be said is that the stream ended.
    res.end();
    cleanUp();
    throw e;
  }
  for (const r of replay) write(r);
  for (const r of early) write(r);
  early.length = 0;
  live = true;
}
