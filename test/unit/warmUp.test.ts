/**
 * The serve-time warm-up (src/server/warmUp.ts): a scratch training session through HTTP into a
 * scratch store that is removed afterwards; stopping it is prompt; it never fails the server; a
 * killed server's scratch folder is removed by the next warm-up.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { warmUpDeps } from '../../src/server/serve';
import { startWarmUp, type WarmUpShape } from '../../src/server/warmUp';
import { MemoryLogger, tempRoot } from './helpers';

const SMALL: WarmUpShape = { runs: 2, batchesPerRun: 2, pointsPerBatch: 50, maxMs: 30_000, delayMs: 0 };

function scratchDirs(tmp: string): string[] {
  return fs.readdirSync(tmp).filter((n) => n.startsWith('runlens-warmup-'));
}

async function withTmpdir<T>(tmp: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
  }
}

/** A pid that is certainly not running: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => child.once('exit', r));
  return child.pid!;
}

describe('serve warm-up', function () {
  this.timeout(60_000);

  it('sends the whole scratch session (every call answered 200) and removes its scratch store', async () => {
    const tmp = tempRoot();
    const log = new MemoryLogger(true);
    const result = await withTmpdir(tmp, async () => {
      const w = startWarmUp(warmUpDeps, log, SMALL);
      // The scratch store exists while it runs, named for this process.
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(scratchDirs(tmp).map((n) => n.split('-')[2]), [String(process.pid)]);
      return w.done;
    });
    assert.equal(result.stopped, undefined, `ended early: ${result.stopped}`);
    // experiment + per run (create, params/tags, batches, 4 log-metric, update) + search
    assert.equal(result.requests, 1 + SMALL.runs * (2 + SMALL.batchesPerRun + 4 + 1) + 1);
    assert.deepEqual(scratchDirs(tmp), []);
    assert.ok(log.lines.some((l) => /warm-up: \d+ requests in \d+ ms/.test(l)), log.lines.join('\n'));
  });

  it('stops at the next request when told to, and still cleans up', async () => {
    const tmp = tempRoot();
    const result = await withTmpdir(tmp, async () => {
      const w = startWarmUp(warmUpDeps, new MemoryLogger(), { ...SMALL, runs: 1000 });
      await new Promise((r) => setTimeout(r, 300));
      const t0 = Date.now();
      await w.stop();
      assert.ok(Date.now() - t0 < 5_000, 'stop() is prompt');
      return w.done;
    });
    assert.equal(result.stopped, 'the server is stopping');
    assert.ok(result.requests > 0 && result.requests < 1 + 1000 * 9);
    assert.deepEqual(scratchDirs(tmp), []);
  });

  it('waits before it starts, and a stop meanwhile ends it with nothing made', async () => {
    const tmp = tempRoot();
    const result = await withTmpdir(tmp, async () => {
      const w = startWarmUp(warmUpDeps, new MemoryLogger(), { ...SMALL, delayMs: 60_000 });
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(scratchDirs(tmp), [], 'nothing made before the delay');
      const t0 = Date.now();
      await w.stop();
      assert.ok(Date.now() - t0 < 1_000, 'stop() does not wait for the delay');
      return w.done;
    });
    assert.deepEqual(result.requests, 0);
    assert.equal(result.stopped, 'the server is stopping');
    assert.deepEqual(scratchDirs(tmp), []);
  });

  it('never rejects: a temp folder it cannot write to ends it with the reason', async () => {
    const tmp = path.join(tempRoot(), 'missing', 'nested');
    const result = await withTmpdir(tmp, () => startWarmUp(warmUpDeps, new MemoryLogger(), SMALL).done);
    assert.equal(result.requests, 0);
    assert.match(result.stopped ?? '', /ENOENT/);
  });

  it("removes a killed server's scratch folder, and keeps a running server's", async () => {
    const tmp = tempRoot();
    const dead = path.join(tmp, `runlens-warmup-${await deadPid()}-abc`);
    const live = path.join(tmp, `runlens-warmup-${process.ppid}-def`);
    const other = path.join(tmp, 'runlens-warmup-notapid');
    for (const d of [dead, live, other]) fs.mkdirSync(path.join(d, 'store'), { recursive: true });
    await withTmpdir(tmp, () => startWarmUp(warmUpDeps, new MemoryLogger(), SMALL).done);
    // Removal of leftovers is asynchronous: give it a moment.
    for (let i = 0; i < 50 && fs.existsSync(dead); i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(fs.existsSync(dead), false, 'a dead pid: removed');
    assert.equal(fs.existsSync(live), true, 'a live pid: kept');
    assert.equal(fs.existsSync(other), true, 'not ours: kept');
  });
});
