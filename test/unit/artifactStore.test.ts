import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { normaliseArtifactPath, resolveInside } from '../../src/store/artifacts/artifactPaths';
import { ArtifactStore } from '../../src/store/artifacts/artifactStore';
import { MlflowError } from '../../src/domain/errors';
import { tempRoot } from './helpers';

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => err instanceof MlflowError && err.errorCode === 'INVALID_PARAMETER_VALUE' && pattern.test(err.message));
}

describe('artifact paths', () => {
  it('normalises harmless paths', () => {
    assert.equal(normaliseArtifactPath('1/run/artifacts/./a//b.txt'), '1/run/artifacts/a/b.txt');
    assert.equal(normaliseArtifactPath('', true), '');
  });

  it('refuses every way out of the root', () => {
    // Exactly MLflow's message for a path that could escape (checked against `mlflow server`).
    for (const bad of ['../x', 'a/../../x', '/etc/passwd', 'C:/Windows/x', 'a\\..\\..\\x', 'a/b\0.txt']) refused(() => normaliseArtifactPath(bad), /^Invalid path$/);
    refused(() => normaliseArtifactPath('.runlens/store.sqlite'), /reserved/);
    refused(() => normaliseArtifactPath(''), /file path is required/);
  });

  it('refuses a symlink that leads outside, follows one that stays inside', () => {
    const root = tempRoot();
    const outside = tempRoot();
    fs.mkdirSync(path.join(root, 'in'));
    fs.symlinkSync(outside, path.join(root, 'out'));
    fs.symlinkSync(path.join(root, 'in'), path.join(root, 'alias'));
    refused(() => resolveInside(root, 'out/file.txt'), /outside/);
    assert.equal(resolveInside(root, 'alias/file.txt'), path.join(root, 'alias', 'file.txt'));
  });
});

describe('artifact store', () => {
  it('writes atomically: a stream that fails leaves no file and no temp', async () => {
    const root = tempRoot();
    const store = new ArtifactStore(root);
    const body = new PassThrough();
    const writing = store.write('1/r/artifacts/f.bin', body);
    body.write(Buffer.alloc(1000));
    body.destroy(new Error('client went away'));
    await assert.rejects(writing, /client went away/);
    assert.equal(fs.existsSync(path.join(root, '1/r/artifacts/f.bin')), false);
    assert.deepEqual(fs.readdirSync(path.join(root, '.runlens', 'uploads')), []);
  });

  it('syncs a large upload as it arrives, and an early sync that fails fails the upload', async () => {
    const root = tempRoot();
    const store = new ArtifactStore(root);
    const nodeFs = require('node:fs') as { fdatasync: typeof fs.fdatasync };
    const real = nodeFs.fdatasync;
    let early = 0;
    let fail = false;
    nodeFs.fdatasync = ((fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => {
      early++;
      if (fail) return process.nextTick(() => cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })));
      return real(fd, cb);
    }) as typeof fs.fdatasync;
    try {
      const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(1024 * 1024, i));
      assert.equal(await store.write('1/r/artifacts/big.bin', Readable.from(chunks)), 40 * 1024 * 1024);
      assert.ok(early >= 2, `synced ahead ${early} times`);
      const got = fs.readFileSync(path.join(root, '1/r/artifacts/big.bin'));
      assert.ok(got.equals(Buffer.concat(chunks)));
      fail = true;
      await assert.rejects(store.write('1/r/artifacts/lost.bin', Readable.from(chunks)), /EIO/);
      assert.equal(fs.existsSync(path.join(root, '1/r/artifacts/lost.bin')), false);
      assert.deepEqual(fs.readdirSync(path.join(root, '.runlens', 'uploads')), []);
    } finally {
      nodeFs.fdatasync = real;
    }
  });

  it('replaces an existing file only when the new one is complete, and enforces the size limit', async () => {
    const root = tempRoot();
    const store = new ArtifactStore(root, { maxArtifactBytes: 10 });
    await store.write('1/r/artifacts/f.txt', Readable.from([Buffer.from('old')]));
    await assert.rejects(store.write('1/r/artifacts/f.txt', Readable.from([Buffer.from('0123456789abc')])), (err: unknown) => err instanceof MlflowError && err.httpStatus === 413);
    assert.equal(fs.readFileSync(path.join(root, '1/r/artifacts/f.txt'), 'utf8'), 'old');
  });

  it('lists one level with sizes, hides internals, and lists a file path as empty', async () => {
    const root = tempRoot();
    const store = new ArtifactStore(root);
    await store.write('1/r/artifacts/a.txt', Readable.from([Buffer.from('abc')]));
    await store.write('1/r/artifacts/d/b.txt', Readable.from([Buffer.from('b')]));
    assert.deepEqual((await store.list('1/r/artifacts')), [
      { path: 'a.txt', is_dir: false, file_size: 3 },
      { path: 'd', is_dir: true },
    ]);
    assert.deepEqual((await store.list('1/r/artifacts/a.txt')), []);
    assert.deepEqual((await store.list('missing')), []);
    assert.ok(!(await store.list('')).some((f) => f.path === '.runlens'));
    assert.deepEqual(
      store.listRecursive('1/r/artifacts').map((f) => f.path),
      ['a.txt', 'd', 'd/b.txt'],
    );
  });

  it('assembles multipart uploads in part order', async () => {
    const root = tempRoot();
    const store = new ArtifactStore(root);
    const { uploadId } = (await store.createMultipart('1/r/artifacts/m.bin', 2));
    await store.writePart(uploadId, 2, Readable.from([Buffer.from('world')]));
    await store.writePart(uploadId, 1, Readable.from([Buffer.from('hello ')]));
    await store.completeMultipart('1/r/artifacts/m.bin', uploadId, [2, 1]);
    assert.equal(fs.readFileSync(path.join(root, '1/r/artifacts/m.bin'), 'utf8'), 'hello world');
    await assert.rejects(async () => (await store.abortMultipart(uploadId)), /does not exist/);
  });
});
