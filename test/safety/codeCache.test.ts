/**
 * dist/cli.js runs the CLI bundle with a V8 code cache (src/cliLoader.ts): a server that has run
 * for a few seconds writes it, the next start uses it, and a damaged cache file costs only the
 * cache (V8 rejects it, the bundle compiles as usual, the file is written again).
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { tempRoot } from '../unit/helpers';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

interface Started {
  child: ChildProcess;
  url: string;
  cache: string;
}

function start(root: string, cacheDir: string): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--root', root], {
      env: { ...process.env, RUNLENS_CODE_CACHE_DIR: cacheDir, RUNLENS_CODE_CACHE_REPORT: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const seen = () => {
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const cache = /runlens code cache: (\w+)/.exec(err)?.[1];
      if (url && cache) resolve({ child, url, cache });
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      seen();
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      seen();
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

function health(url: string): Promise<number> {
  return new Promise((resolve, reject) => http.get(`${url}/health`, (res) => (res.resume(), resolve(res.statusCode ?? 0))).on('error', reject));
}

async function stop(s: Started): Promise<void> {
  s.child.removeAllListeners('exit');
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await exited;
}

async function cacheFileIn(dir: string, changedAfterMs = 0, timeoutMs = 20_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // This build's cache (the test runs the same Node as the CLI it starts).
    const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(`cli-${process.version}-`) && f.endsWith('.v8cache')) : [];
    const file = files.map((f) => path.join(dir, f)).find((f) => fs.statSync(f).mtimeMs > changedAfterMs);
    if (file) return file;
    if (Date.now() > until) throw new Error(`no code cache written in ${dir}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('safety: the CLI code cache', function () {
  this.timeout(90_000);

  it('is written by a running server (old caches of other builds pruned), used by the next start, and a damaged one is rejected and rewritten', async () => {
    const root = tempRoot();
    const cacheDir = path.join(tempRoot(), 'cache');

    // Another build's caches: one unused for 8 days (removed when a new one is written), one recent (kept).
    fs.mkdirSync(cacheDir, { recursive: true });
    const stale = path.join(cacheDir, 'cli-v0.0.0-x64-1-1.v8cache');
    const recent = path.join(cacheDir, 'cli-v0.0.0-x64-2-2.v8cache');
    fs.writeFileSync(stale, 'old');
    fs.writeFileSync(recent, 'recent');
    const eightDaysAgo = new Date(Date.now() - 8 * 24 * 3600 * 1000);
    fs.utimesSync(stale, eightDaysAgo, eightDaysAgo);

    const first = await start(root, cacheDir);
    assert.equal(first.cache, 'none');
    const file = await cacheFileIn(cacheDir);
    await stop(first);
    assert.equal(fs.existsSync(stale), false, 'a cache unused for 8 days is removed');
    assert.equal(fs.existsSync(recent), true, 'a recently used cache of another build is kept');

    const second = await start(root, cacheDir);
    assert.equal(second.cache, 'accepted');
    assert.equal(await health(second.url), 200);
    await stop(second);

    // Damaged (a torn write, another build's bytes): rejected, served anyway, written again.
    fs.writeFileSync(file, Buffer.alloc(4096, 7));
    const damagedAt = fs.statSync(file).mtimeMs;
    const third = await start(root, cacheDir);
    assert.equal(third.cache, 'rejected');
    assert.equal(await health(third.url), 200);
    await cacheFileIn(cacheDir, damagedAt);
    await stop(third);

    const fourth = await start(root, cacheDir);
    assert.equal(fourth.cache, 'accepted');
    await stop(fourth);
  });

  it('the bundle the loader runs has no dynamic import() left (a vm.Script has no module loader: it would throw at run time)', () => {
    const bundle = fs.readFileSync(path.join(path.dirname(CLI), 'cli-main.js'), 'utf8');
    const at = bundle.search(/\bimport\s*\(/);
    assert.equal(at, -1, `dist/cli-main.js has an import() at ${at}: ${bundle.slice(Math.max(0, at - 80), at + 40)}`);
  });

  it('RUNLENS_CODE_CACHE=off runs the CLI without one', () => {
    const cacheDir = path.join(tempRoot(), 'cache');
    const r = spawnSync(process.execPath, [CLI, '--version'], { env: { ...process.env, RUNLENS_CODE_CACHE: 'off', RUNLENS_CODE_CACHE_DIR: cacheDir, RUNLENS_CODE_CACHE_REPORT: '1' }, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+\.\d+/);
    assert.match(r.stderr, /runlens code cache: off/);
    assert.equal(fs.existsSync(cacheDir), false);
  });
});
