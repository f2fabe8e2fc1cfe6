/**
 * PortPeer: calls both ways over one MessagePort, across a real thread boundary (a worker's
 * port is the same object as a MessageChannel's end). What each side hears is in the order the
 * other said it: notices before the answer that follows them; errors come back as errors; a
 * closed port ends every call waiting on it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MessageChannel } from 'node:worker_threads';
import { PortPeer } from './port-rpc.ts';

test('calls both ways; a notice sent before an answer is heard before that answer resolves its call', async () => {
  const { port1, port2 } = new MessageChannel();
  const heard: string[] = [];
  let server!: PortPeer;
  const client = new PortPeer(port1, (method, args) => {
    heard.push(`${method}:${String(args[0])}`);
    return method === 'double' ? Number(args[0]) * 2 : undefined;
  });
  server = new PortPeer(port2, async (method, args) => {
    if (method !== 'work') throw new Error(`no ${method}`);
    // Told to the caller, then answered: the caller hears them in that order.
    server.notify('progress', args[0]);
    server.notify('progress', 'more');
    const doubled = await server.call<number>('double', 21);
    return `${String(args[0])} done, ${doubled}`;
  });
  const answer = await client.call<string>('work', 'job');
  assert.equal(answer, 'job done, 42');
  assert.deepEqual(heard, ['progress:job', 'progress:more', 'double:21']);
  client.close();
  server.close();
});

test('a handler that throws or rejects answers with an error; a closed port ends the calls waiting on it', async () => {
  const { port1, port2 } = new MessageChannel();
  const client = new PortPeer(port1, () => undefined);
  let release!: () => void;
  const server = new PortPeer(port2, (method) => {
    if (method === 'throws') throw new Error('thrown here');
    if (method === 'rejects')
      return Promise.reject(Object.assign(new Error('rejected here'), { code: 'x-code' }));
    return new Promise<void>((r) => {
      release = r;
    });
  });
  await assert.rejects(client.call('throws'), /thrown here/);
  await assert.rejects(client.call('rejects'), (e: Error & { code?: string }) => e.code === 'x-code');
  const waiting = client.call('never');
  await new Promise((r) => setImmediate(r));
  server.close();
  await assert.rejects(waiting, /closed/);
  await assert.rejects(client.call('after'), /closed/);
  release?.();
});
