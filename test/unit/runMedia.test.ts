// The browser-safe parsers behind the run page's image gallery, dataset details and traceback links.
import * as assert from 'node:assert/strict';
import { datasetView } from '../../src/ui/datasetDetails';
import { groupLoggedImages, imageAtStep, parseLoggedImageName, stepsOf } from '../../src/ui/loggedImages';
import { splitTraceback, vscodeFileUrl } from '../../src/ui/tracebackLinks';

describe('run media parsers', () => {
  it('reads log_image names of MLflow 3 (+) and earlier (%) clients, keys with slashes, thumbnails', () => {
    const u = '0b8f3c1e-1111-4222-8333-944455556666';
    assert.deepEqual(parseLoggedImageName(`images/val~pred+step+12+timestamp+1700000000000+${u}+compressed.webp`), { key: 'val/pred', step: 12, timestamp: 1700000000000, id: u, compressed: true });
    assert.deepEqual(parseLoggedImageName(`images/k%step%3%timestamp%5%${u}.png`), { key: 'k', step: 3, timestamp: 5, id: u, compressed: false });
    assert.equal(parseLoggedImageName('images/plain.png'), undefined);
    const series = groupLoggedImages([
      `images/b+step+1+timestamp+2+${u}.png`,
      `images/a+step+2+timestamp+9+${u.replace('0b', '1b')}.png`,
      `images/a+step+0+timestamp+1+${u}.png`,
      `images/a+step+0+timestamp+1+${u}+compressed.webp`,
      'images/notes.txt',
    ]);
    assert.deepEqual(series.map((s) => [s.key, s.images.map((i) => i.step)]), [['a', [0, 2]], ['b', [1]]]);
    assert.equal(series[0]!.images[0]!.thumbnail, `images/a+step+0+timestamp+1+${u}+compressed.webp`);
    assert.deepEqual(stepsOf(series), [0, 1, 2]);
    assert.equal(imageAtStep(series[0], 1)?.step, 0, 'a skipped step shows the latest before it');
    assert.equal(imageAtStep(series[1], 0), undefined);
  });

  it('turns a dataset input into source, schema and profile, and keeps what does not parse', () => {
    const v = datasetView({
      tags: [{ key: 'mlflow.data.context', value: 'training' }],
      dataset: { name: 'train', digest: 'abc', source_type: 'http', source: '{"url": "https://x/y.csv"}', schema: '{"mlflow_colspec": [{"type": "long", "name": "n", "required": false}]}', profile: '{"num_rows": 12000}' },
    });
    assert.deepEqual([v.context, v.sourceType, v.sourceUri, v.schema, v.profile], ['training', 'http', 'https://x/y.csv', [{ name: 'n', type: 'long', required: false }], [['num_rows', '12,000']]]);
    const raw = datasetView({ dataset: { name: 'd', digest: 'z', source: 'not json', schema: '{"something": 1}', profile: 'oops' } });
    assert.deepEqual([raw.sourceUri, raw.schema, raw.schemaRaw, raw.profile], ['not json', undefined, '{"something": 1}', [['profile', 'oops']]]);
  });

  it('finds traceback frames and keeps the text around them', () => {
    const text = 'Traceback (most recent call last):\n  File "/w/a.py", line 3, in <module>\n  File "<stdin>", line 1\nKeyError: 1';
    const parts = splitTraceback(text);
    assert.equal(parts.map((p) => p.text).join(''), text);
    assert.deepEqual(parts.filter((p) => 'path' in p), [{ text: 'File "/w/a.py", line 3', path: '/w/a.py', line: 3 }]);
    assert.equal(vscodeFileUrl('/w/my dir/a.py', 3), 'vscode://file/w/my%20dir/a.py:3');
    assert.equal(vscodeFileUrl('C:\\w\\a.py', 3), 'vscode://file/C:/w/a.py:3');
  });
});
