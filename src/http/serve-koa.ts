// Node's http server wants a plain listener; Koa's handler returns a promise. Koa settles every
// request itself (a throw becomes an error response and the app's 'error' event), so that promise
// never rejects and is deliberately not awaited here.
import type { RequestListener } from 'node:http';
import type Koa from 'koa';

export function serveKoa(koa: Koa): RequestListener {
  const handle = koa.callback();
  return (req, res) => void handle(req, res);
}
