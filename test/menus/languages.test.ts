// Languages are configuration and menu data, not an en/sw enum: USSD_LANGUAGES names them (the
// first is the default), a file may declare its own, every text must exist in each, and the
// engine's own words come from the file (`messages:`) when the engine does not speak them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMenus } from '../../src/menus/load.js';
import { MenuError } from '../../src/menus/types.js';
import { loadConfig } from '../../src/config.js';
import { startTestService } from '../support/service.js';
import { Phone } from '../support/ussd.js';

const FR = `id: bonjour
service_code: "*860*60#"
start: home
messages:
  opt: { fr: "Choix invalide, reessayez." }
screens:
  home:
    text: { fr: "Bienvenue", en: "Welcome" }
    options:
      - { fr: Continuer, en: Continue, next: bye }
      - { fr: English, en: English, next: home, lang: en }
  bye:
    end: { fr: "Au revoir", en: "Goodbye" }
`;

const opts = { defaultServiceCode: '*860*30#', keys: { back: '0', home: '00', more: '98' } };

test('a menu in French and English under USSD_LANGUAGES=fr,en: French first, switchable, engine words from the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'langs-'));
  writeFileSync(join(dir, 'bonjour.yaml'), FR);
  const svc = await startTestService({ MENUS_DIR: dir, USSD_LANGUAGES: 'fr,en', MENUS_WATCH: '0' });
  try {
    const p = new Phone(svc.url, '+254712000601', '*860*60#');
    assert.equal(await p.dial(), 'CON Bienvenue\n1 Continuer\n2 English');
    assert.equal(await p.send('7'), 'CON Choix invalide, reessayez.\nBienvenue\n1 Continuer\n2 English');
    assert.equal(await p.send('2'), 'CON Welcome\n1 Continue\n2 English');
    assert.equal(await p.send('1'), 'END Goodbye');
    // The choice is remembered for this phone's next session.
    assert.equal(await new Phone(svc.url, '+254712000601', '*860*60#').dial(), 'CON Welcome\n1 Continue\n2 English');
  } finally {
    await svc.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every text in every language: a missing French text is named; a file may declare its own languages', () => {
  const dir = mkdtempSync(join(tmpdir(), 'langs-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), FR.replace('end: { fr: "Au revoir", en: "Goodbye" }', 'end: { en: "Goodbye" }'));
    assert.throws(
      () => loadMenus([join(dir, 'a.yaml')], { ...opts, languages: ['fr', 'en'] }),
      (err: unknown) => {
        assert.ok(err instanceof MenuError);
        assert.match(err.message, /a\.yaml: screens\.bye\.end\.fr: French text \(fr\) is missing/);
        return true;
      },
    );
    // The same file read with the default languages (en, sw): fr is not one of them, sw is missing.
    assert.throws(() => loadMenus([join(dir, 'a.yaml')], opts), /Swahili text \(sw\) is missing/);
    // Declared in the file, its languages win over the service's.
    writeFileSync(join(dir, 'b.yaml'), `languages: [fr, en]\n${FR}`);
    const [m] = loadMenus([join(dir, 'b.yaml')], opts);
    assert.deepEqual(m!.languages, ['fr', 'en']);
    writeFileSync(join(dir, 'c.yaml'), `languages: [en, Klingon]\n${FR}`);
    assert.throws(() => loadMenus([join(dir, 'c.yaml')], opts), /c\.yaml: languages\.1: "Klingon" is not a language code/);
    // An option may only switch to one of the menu's languages.
    writeFileSync(join(dir, 'd.yaml'), FR.replace('lang: en', 'lang: sw'));
    assert.throws(
      () => loadMenus([join(dir, 'd.yaml')], { ...opts, languages: ['fr', 'en'] }),
      /d\.yaml: screens\.home\.options\.1\.lang: must be one of this menu's languages \(fr, en\)/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('USSD_LANGUAGES is checked at start-up', () => {
  assert.deepEqual(loadConfig({}).USSD_LANGUAGES, ['en', 'sw']);
  assert.deepEqual(loadConfig({ USSD_LANGUAGES: 'sw, en ,fr' }).USSD_LANGUAGES, ['sw', 'en', 'fr']);
  assert.throws(() => loadConfig({ USSD_LANGUAGES: 'en,English' }), /config: USSD_LANGUAGES: not a language code \(2 or 3 lower-case letters\): English/);
});
