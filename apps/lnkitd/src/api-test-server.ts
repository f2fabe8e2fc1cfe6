/** Tests only: lnkitd's API over a given node on a loopback port, and one request at a time to it. */
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LnkitNode } from '@lnkit/node';
import { captureLogger } from '@lnkit/test-support';
import { createApiServer } from './api.ts';

export interface ApiTestServer {
  /** One request on a connection of its own (GET without a body, POST with one): its status and JSON body. */
  call(path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function apiTestServer(node: LnkitNode, token: string): Promise<ApiTestServer> {
  const server = createApiServer({ node, token, logger: captureLogger().logger });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    call: (path, body) =>
      new Promise((resolve, reject) => {
        const req = request(
          `${base}${path}`,
          {
            method: body === undefined ? 'GET' : 'POST',
            headers: { authorization: `Bearer ${token}`, connection: 'close' },
            agent: false,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                json: JSON.parse(Buffer.concat(chunks).toString('utf8')),
              }),
            );
          },
        );
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
