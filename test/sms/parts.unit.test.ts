import { test } from 'node:test';
import assert from 'node:assert/strict';
import { messageParts, isGsm7 } from '../../src/sms/parts.js';

test('GSM-7: 160 in one part, 161 needs two of 153', () => {
  assert.deepEqual({ ...messageParts('a'.repeat(160)) }, { encoding: 'GSM-7', units: 160, characters: 160, parts: 1, perPart: 160, remaining: 0 });
  const two = messageParts('a'.repeat(161));
  assert.equal(two.parts, 2);
  assert.equal(two.perPart, 153);
  assert.equal(messageParts('a'.repeat(306)).parts, 2);
  assert.equal(messageParts('a'.repeat(307)).parts, 3);
  assert.equal(messageParts('').parts, 0);
});

test('extension characters count two septets and are not split across parts', () => {
  const m = messageParts('€'.repeat(80));
  assert.equal(m.encoding, 'GSM-7');
  assert.equal(m.units, 160);
  assert.equal(m.parts, 1);
  assert.equal(messageParts(`${'a'.repeat(159)}[`).parts, 2); // 161 septets
  // 152 plain + "{" (2 septets) does not fit in 153, so "{" opens part 2: 152 | 2+151 | 1.
  // Dividing 306 septets by 153 would claim 2 parts.
  const split = messageParts(`${'a'.repeat(152)}{${'a'.repeat(152)}`);
  assert.equal(split.units, 306);
  assert.equal(split.parts, 3);
});

test('GSM-7 accented letters stay GSM-7; others force UCS-2', () => {
  assert.equal(isGsm7('Habari é à ñ ü Ä'), true);
  assert.equal(isGsm7('Karibu ş'), false);
  assert.equal(isGsm7('curly ’quote'), false);
  const u = messageParts('Asante 🙏');
  assert.equal(u.encoding, 'UCS-2');
  assert.equal(u.units, 9); // 7 + surrogate pair
});

test('UCS-2: 70 units single, 67 per part, surrogate pairs never split', () => {
  assert.equal(messageParts(`${'ş'.repeat(70)}`).parts, 1);
  assert.equal(messageParts(`${'ş'.repeat(71)}`).parts, 2);
  assert.equal(messageParts(`${'ş'.repeat(134)}`).parts, 2);
  assert.equal(messageParts(`${'ş'.repeat(135)}`).parts, 3);
  // 35 emoji = 70 units: one part. 36 = 72 units: 33 emoji (66) per part → 2 parts.
  assert.equal(messageParts('😀'.repeat(35)).parts, 1);
  const e = messageParts('😀'.repeat(36));
  assert.equal(e.units, 72);
  assert.equal(e.parts, 2);
  // 66 units + an emoji: it does not fit in the remaining 1 unit of part 1.
  assert.equal(messageParts(`${'ş'.repeat(66)}😀${'ş'.repeat(5)}`).parts, 2);
});
