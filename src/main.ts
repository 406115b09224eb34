// `npm start`: the service in the role ROLE names (default all: HTTP, embedded sandbox unless
// GATEWAY_URL, workers). ROLE=web serves HTTP without workers; ROLE=worker is `npm run worker`.
import { runProcess } from './process.js';

runProcess().catch((err) => {
  // Menu validation errors and the like: one clear message, non-zero exit, no half-started server.
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
