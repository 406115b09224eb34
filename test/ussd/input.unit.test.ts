// The request marks of cumulative channels (src/ussd/input.ts): a mark is the text's length and
// the start of its SHA-256 (never the text, which carries PINs), and the latest input is found
// against the stored mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { latestInput, textMark } from '../../src/ussd/input.js';

test('a mark is "~<length>:<22 characters of the base64url SHA-256>", as records already in Redis hold', () => {
  for (const text of ['', '1', '1*2*0733000123*100', '*'.repeat(300), 'Ω']) {
    assert.equal(textMark(text), `~${text.length}:${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`);
  }
  assert.ok(!textMark('1*1234').includes('1234'), 'the PIN is not in the mark');
});

test('the latest input is what follows the marked prefix; a repeat has none; an empty answer survives', () => {
  assert.equal(latestInput(textMark('1*2'), '1*2*0733000123', true), '0733000123');
  assert.equal(latestInput(textMark('1*2'), '1*2', true), '');
  assert.equal(latestInput(textMark('1'), '1*', true), '');
  assert.equal(latestInput(textMark('1*2'), '1*2*3*4', true), '3*4');
  assert.equal(latestInput(textMark(''), '5', true), '5');
});
