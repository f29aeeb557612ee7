import * as assert from 'node:assert/strict';
import { validateRequestPath } from '../../src/store/artifacts/artifactPaths';
import { contentDispositionFor, contentTypeFor } from '../../src/store/artifacts/contentTypes';

describe('artifact download headers (as mlflow server sends them)', () => {
  it("types files by MLflow's text list first, then by Python's mimetypes", () => {
    // MLflow's text list is case-sensitive and includes the extension-less MLmodel and mlproject.
    for (const f of ['a.json', 'x.yaml', 'x.csv', 'n.ipynb', 'MLmodel', 'mlproject', 'sub/d.md', 'r.log', 'A.TXT']) assert.equal(contentTypeFor(f), 'text/plain', f);
    // 'MLproject' is not 'mlproject': it falls through to mimetypes, which knows no type for it.
    assert.equal(contentTypeFor('MLproject'), 'application/octet-stream');
    assert.equal(contentTypeFor('noext'), 'application/octet-stream');
    assert.equal(contentTypeFor('.png'), 'application/octet-stream');
    assert.equal(contentTypeFor('b.html'), 'text/html');
    assert.equal(contentTypeFor('c.PNG'), 'image/png');
    assert.equal(contentTypeFor('k.JSON'), 'application/json');
    assert.equal(contentTypeFor('l.tar.gz'), 'application/x-tar');
    assert.equal(contentTypeFor('l.tgz'), 'application/x-tar');
    assert.equal(contentTypeFor('l.gz'), 'application/octet-stream');
    assert.equal(contentTypeFor('g.svgz'), 'image/svg+xml');
  });

  it('names the attachment as werkzeug quotes it, with an RFC 5987 name for non-ASCII', () => {
    assert.equal(contentDispositionFor('a.json'), 'attachment; filename=a.json');
    assert.equal(contentDispositionFor('sp ace.txt'), 'attachment; filename="sp ace.txt"');
    assert.equal(contentDispositionFor('q"uote.txt'), 'attachment; filename="q\\"uote.txt"');
    assert.equal(contentDispositionFor('日本.txt'), "attachment; filename=.txt; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt");
    assert.equal(contentDispositionFor('café.txt'), "attachment; filename=cafe.txt; filename*=UTF-8''caf%C3%A9.txt");
    assert.equal(contentDispositionFor('日本'), "attachment; filename=download; filename*=UTF-8''%E6%97%A5%E6%9C%AC");
  });

  it("refuses what MLflow's validate_path_is_safe refuses, after %-decoding until stable", () => {
    for (const p of ['../x', 'a/../b', '/etc/passwd', 'a#b', 'C:/x', 'C:\\x', 'file:///etc/passwd', '%2E%2E/x', '%252E%252E/x', '//host/share/x']) {
      assert.throws(() => validateRequestPath(p), /^MlflowError: Invalid path$/, p);
    }
    assert.equal(validateRequestPath('a%252Ejson'), 'a.json');
    assert.equal(validateRequestPath('sub//d.yaml'), 'sub//d.yaml');
    assert.equal(validateRequestPath('a\u0001b'), 'a%01b');
  });
});
