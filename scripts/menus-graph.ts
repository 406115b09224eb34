// `npm run menus:graph [-- files…]`: every menu in MENUS_DIR (or the given files) as a Mermaid
// flowchart on stdout, drawn from the compiled menus the engine serves (src/menus/graph.ts).
// Unreachable and over-long screens are outlined in red; a menu with such problems is still drawn
// (its problems go to stderr and the exit code is 1). Paste the output into any Mermaid viewer.
import { screenLimits } from '../src/channels/index.js';
import { loadConfig } from '../src/config.js';
import { menuGraph, mermaid } from '../src/menus/graph.js';
import { loadMenusReport, menuFilesIn } from '../src/menus/load.js';
import { MenuError } from '../src/menus/types.js';

const config = loadConfig(process.env);
const args = process.argv.slice(2);
try {
  const { menus, problems } = loadMenusReport(args.length ? args : menuFilesIn(config.MENUS_DIR), {
    defaultServiceCode: config.USSD_SERVICE_CODE,
    keys: { back: config.USSD_BACK_KEY, home: config.USSD_HOME_KEY, more: config.USSD_MORE_KEY },
    screenLimits: screenLimits(config),
    languages: config.USSD_LANGUAGES,
  });
  process.stdout.write(menus.map((m) => mermaid(menuGraph(m, screenLimits(config)))).join('\n'));
  for (const p of problems) console.error(`error  ${p}`);
  if (problems.length) process.exitCode = 1;
} catch (err) {
  if (!(err instanceof MenuError)) throw err;
  for (const p of err.problems) console.error(`error  ${p}`);
  process.exit(1);
}
