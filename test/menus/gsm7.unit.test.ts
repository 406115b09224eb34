import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gsmLength, toGsm7 } from '../../src/menus/gsm7.js';

test('gsmLength counts characters as a handset does: extension characters are two', () => {
  assert.equal(gsmLength(''), 0);
  assert.equal(gsmLength('CON 1 Buy airtime\n2 Pay bill'), 28);
  assert.equal(gsmLength('KES 100 €'), 10);
  assert.equal(gsmLength('{[~]}|^\\'), 16);
  assert.equal(gsmLength('Karibu, Wanjikú'), 15);
  assert.equal(gsmLength('a😀b'), 3); // one character even though two UTF-16 units
  assert.equal(gsmLength('a\ud83d'), 2); // a lone surrogate is still a character
});

test('toGsm7 keeps GSM-7, maps look-alikes and drops the rest', () => {
  assert.equal(toGsm7('Plain text 123'), 'Plain text 123');
  assert.equal(toGsm7('“Quoted” – it’s…'), '"Quoted" - it\'s...');
  assert.equal(toGsm7('Pay 😀 now'), 'Pay now');
  assert.equal(toGsm7('Café ô'), 'Café o');
});
