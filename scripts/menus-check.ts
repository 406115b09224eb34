// `npm run menus:check [files…]`: validates every menu in MENUS_DIR (or the given files): schema,
// references, screen length in both languages with paging for every enabled channel's limit
// (USSD_CHANNELS, SCREEN_MAX_CHARS; Nalo holds 120), reachability, a way out everywhere, and that
// the configured gateway roles can carry out every action, and that every variable an action
// reads is set on every way to its screen (the checkout action needs `merchant`).
import { screenLimits } from '../src/channels/index.js';
import { loadConfig } from '../src/config.js';
import { loadMenus, menuFilesIn } from '../src/menus/load.js';
import { MenuError } from '../src/menus/types.js';
import { CAPABILITIES, roleNames } from '../src/gateway/index.js';
import { needsProblems, varProblems } from '../src/ussd/action-needs.js';
import { needsOf, varsOf } from '../src/payments/needs.js';

const config = loadConfig(process.env);
const args = process.argv.slice(2);
let files: string[];
try {
  files = args.length ? args : menuFilesIn(config.MENUS_DIR);
  const menus = loadMenus(files, {
    defaultServiceCode: config.USSD_SERVICE_CODE,
    keys: { back: config.USSD_BACK_KEY, home: config.USSD_HOME_KEY, more: config.USSD_MORE_KEY },
    screenLimits: screenLimits(config),
    languages: config.USSD_LANGUAGES,
  });
  // Every action must be doable by the gateways the roles name (COLLECT/FULFIL/SMS_GATEWAY).
  const roles = roleNames(config);
  const gateways = {
    collect: { name: roles.collect, capabilities: CAPABILITIES[roles.collect] },
    fulfil: { name: roles.fulfil, capabilities: CAPABILITIES[roles.fulfil] },
    sms: { name: roles.sms, capabilities: CAPABILITIES[roles.sms] },
  };
  const problems = [...needsProblems(menus, needsOf, gateways), ...varProblems(menus, varsOf)];
  if (problems.length) throw new MenuError(problems);
  const limits = screenLimits(config)
    .map((l) => `${l.limit} (${l.channels.join(', ')})`)
    .join('; ');
  for (const m of menus) console.log(`ok  ${m.file}: ${m.screens.size} screens, ${m.serviceCode}, version ${m.version}, fits ${limits}`);
} catch (err) {
  if (!(err instanceof MenuError)) throw err;
  for (const p of err.problems) console.error(`error  ${p}`);
  console.error(`${err.problems.length} problem(s)`);
  process.exit(1);
}
