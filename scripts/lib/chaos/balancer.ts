// A round-robin load balancer in front of the web instances, as production has one: the
// gateway's IPNs (PUBLIC_URL) and the aggregator's hops reach whichever instance is up. A
// backend that refuses the connection (killed, restarting) is skipped for the next one; a
// request already sent is never replayed here (that is the aggregator's call, see ussd-wire.ts).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';

export interface Balancer {
  url: string;
  close(): Promise<void>;
}

export async function startBalancer(backends: () => string[]): Promise<Balancer> {
  let next = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const list = backends();
        for (let i = 0; i < list.length; i++) {
          const base = list[next++ % list.length]!;
          try {
            const headers = { ...req.headers } as Record<string, string>;
            delete headers.host;
            delete headers.connection;
            const r = await request(`${base}${req.url}`, {
              method: req.method as 'GET',
              headers,
              body: body.length ? body : undefined,
              headersTimeout: 30_000,
              bodyTimeout: 30_000,
            });
            const text = Buffer.from(await r.body.arrayBuffer());
            const out: Record<string, string> = {};
            for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && k !== 'transfer-encoding' && k !== 'connection') out[k] = String(v);
            res.writeHead(r.statusCode, out);
            res.end(text);
            return;
          } catch (err) {
            const code = (err as { code?: string }).code ?? '';
            if (code !== 'ECONNREFUSED' && code !== 'UND_ERR_CONNECT_TIMEOUT') break; // may have been processed
          }
        }
        res.writeHead(502);
        res.end('no backend');
      })();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
