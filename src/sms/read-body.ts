// Body parsing that never turns a client's bad bytes into a 500: a parser error with a 4xx status
// (bad JSON 400, too large 413, unsupported charset 415) keeps it; anything else the parser throws
// (a corrupt gzip/br stream has no status) is the client's fault too and answers 400. Shared by
// the SMS and payments routes; the message is ours, never the parser's text.
import type { Context, Next } from 'koa';

type Parser = (ctx: Context, next: Next) => Promise<unknown>;

const noop = async () => undefined;

/** Parses the body with `parser`; false (and a 4xx answer set on ctx) when it cannot be read. */
export async function readBody(ctx: Context, parser: Parser): Promise<boolean> {
  try {
    await parser(ctx, noop);
    return true;
  } catch (err) {
    const s = (err as { status?: unknown }).status;
    const status = typeof s === 'number' && s >= 400 && s < 500 ? s : 400;
    ctx.status = status;
    ctx.body = {
      error: status === 413 ? 'BODY_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_BODY' : 'BAD_BODY',
      message: status === 413 ? 'request body too large' : 'request body could not be read',
    };
    return false;
  }
}

/** readBody as a route middleware: the handler runs only when the body was read. */
export function bodyOr4xx(parser: Parser) {
  return async (ctx: Context, next: Next): Promise<void> => {
    if (await readBody(ctx, parser)) await next();
  };
}
