import * as assert from 'node:assert/strict';
import { JsonDepthError, jsonTextTooDeep, parseJsonBounded, valueTooDeep } from '../../src/domain/jsonDepth';
import { redactStorePaths } from '../../src/server/errorText';

describe('JSON nesting bound', () => {
  const nested = (n: number): string => '['.repeat(n) + ']'.repeat(n);

  it('counts objects and arrays, not brackets inside strings or escaped quotes', () => {
    assert.equal(jsonTextTooDeep(nested(100)), false);
    assert.equal(jsonTextTooDeep(nested(101)), true);
    assert.equal(jsonTextTooDeep(JSON.stringify({ s: '['.repeat(5000) })), false);
    assert.equal(jsonTextTooDeep(JSON.stringify({ s: '\\"' + '{'.repeat(5000) })), false);
    assert.equal(jsonTextTooDeep('{"a":' .repeat(3) + '1' + '}'.repeat(3), 3), false);
    assert.equal(jsonTextTooDeep('{"a":'.repeat(4) + '1' + '}'.repeat(4), 3), true);
  });

  it('parses within the bound and refuses beyond it', () => {
    assert.deepEqual(parseJsonBounded('{"a":[1,{"b":"]]]"}]}'), { a: [1, { b: ']]]' }] });
    assert.throws(() => parseJsonBounded(nested(3000)), JsonDepthError);
    assert.throws(() => parseJsonBounded('{"a": '), SyntaxError);
  });

  it('measures parsed values at any depth (stops one level past the limit)', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    assert.equal(valueTooDeep(v), true);
    assert.equal(valueTooDeep({ a: [{ b: 1 }] }, 3), false);
    assert.equal(valueTooDeep({ a: [{ b: {} }] }, 3), true);
    assert.equal(valueTooDeep('[[[[['), false);
    // Exactly at the limit is fine, one more level is not; wide values are walked whole.
    assert.equal(valueTooDeep([[[]]], 3), false);
    assert.equal(valueTooDeep([[[[]]]], 3), true);
    const wide = { metrics: Array.from({ length: 1000 }, (_, i) => ({ key: 'k', value: i, step: i })) };
    assert.equal(valueTooDeep(wide, 3), false);
    assert.equal(valueTooDeep({ ...wide, last: [{ deep: [1] }] }, 3), true);
    assert.equal(valueTooDeep(null), false);
  });
});

describe('error text', () => {
  it('takes the store root out of messages', () => {
    assert.equal(redactStorePaths("ENOENT: no such file, open '/srv/store/1/a.txt'", '/srv/store'), "ENOENT: no such file, open '<store>/1/a.txt'");
    assert.equal(redactStorePaths('nothing here', '/srv/store'), 'nothing here');
    assert.equal(redactStorePaths('a / b', '/'), 'a / b');
  });
});
