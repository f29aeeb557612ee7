import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { openBackend } from '../../src/backend/open';
import { serveStore } from '../../src/server/serve';
import { lockPath, pendingLockPath, readLockOwner, StoreLock, StoreLockedError } from '../../src/store/storeLock';
import { MemoryLogger, openStore, tempRoot } from './helpers';

/** Every file and folder under `dir`, relative, sorted (empty when it does not exist). */
function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).sort();
}

describe('lazy store creation', () => {
  it('serves reads on a missing store without creating it, and the first write creates it durably', async () => {
    const ws = tempRoot();
    const root = path.join(ws, 'mlruns');
    const served = await serveStore({ root, port: 0, log: new MemoryLogger() });
    try {
      const base = served.server.url;
      const search = await fetch(`${base}/api/2.0/mlflow/experiments/search?max_results=10`);
      assert.equal(search.status, 200);
      const body = (await search.json()) as { experiments: { name: string; experiment_id: string }[] };
      assert.deepEqual(body.experiments.map((e) => [e.experiment_id, e.name]), [['0', 'Default']], 'the Default experiment is served from memory');
      assert.equal(fs.existsSync(root), false, 'reads created no folder');
      assert.deepEqual(fs.readdirSync(ws), [], 'nothing in the workspace');
      const owner = readLockOwner(root);
      assert.equal(owner?.pid, process.pid, 'the owner is findable before the store exists (other windows attach)');
      assert.equal(owner?.url, base);

      const created = await fetch(`${base}/api/2.0/mlflow/runs/create`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ experiment_id: '0', run_name: 'first' }) });
      assert.equal(created.status, 200);
      assert.ok(fs.existsSync(path.join(root, '.runlens', 'journal', '00000001.log')), 'the first write created the journal');
      assert.deepEqual([readLockOwner(root)?.pid, readLockOwner(root)?.url], [process.pid, base], 'the lock moved into the store with its URL');
      assert.ok(fs.existsSync(lockPath(root)));
      assert.equal(fs.existsSync(pendingLockPath(root)), false, 'the pending lock is gone');
    } finally {
      await served.stop();
    }
    // A crash right after the acknowledgement is what reopening without a checkpoint replays.
    const reopened = await openStore(root);
    try {
      const exps = await reopened.searchExperiments({});
      assert.deepEqual(exps.items.map((e) => e.name), ['Default'], 'the held-back Default experiment was journaled ahead of the run');
      const runs = await reopened.searchRuns({ experimentIds: ['0'] });
      assert.deepEqual(runs.items.map((r) => r.info.run_name), ['first']);
    } finally {
      await reopened.close();
    }
  });

  it('journals an acknowledged first write before any snapshot (it survives a close without checkpoint)', async () => {
    const root = path.join(tempRoot(), 'nested', 'mlruns');
    const opened = await openBackend({ kind: 'runlens', root }, { log: new MemoryLogger() });
    assert.equal(opened.local?.created, false);
    const exp = await opened.backend.createExperiment('kept');
    assert.equal(opened.local?.created, true);
    await opened.local!.close({ checkpoint: false });
    // the lock of a store closed this way is still ours: release it as a crash would leave it stale
    fs.rmSync(lockPath(root), { force: true });
    const again = await openStore(root);
    try {
      assert.equal(again.recovery.snapshotLoaded, false);
      assert.ok((await again.getExperiment(exp)).name === 'kept');
    } finally {
      await again.close();
    }
  });

  it('creates the store before writing an artifact under it', async () => {
    const root = path.join(tempRoot(), 'mlruns');
    const opened = await openBackend({ kind: 'runlens', root }, { log: new MemoryLogger() });
    try {
      await opened.local!.artifacts.write('0/abc/artifacts/a.txt', Readable.from([Buffer.from('hi')]));
      assert.ok(fs.existsSync(path.join(root, '.runlens', 'journal')), 'the store exists, so the folder is not mistaken for a foreign one');
      assert.equal(fs.readFileSync(path.join(root, '0', 'abc', 'artifacts', 'a.txt'), 'utf8'), 'hi');
    } finally {
      await opened.close();
    }
  });

  it('closing an unused lazy store leaves nothing behind', async () => {
    const ws = tempRoot();
    const root = path.join(ws, 'mlruns');
    const opened = await openBackend({ kind: 'runlens', root }, { log: new MemoryLogger() });
    opened.setUrl('http://127.0.0.1:1');
    await opened.close();
    assert.deepEqual(tree(ws), []);
    assert.equal(fs.existsSync(pendingLockPath(root)), false, 'pending lock released');
    assert.equal(readLockOwner(root), undefined);
  });

  it('a pending owner blocks others from taking or creating the store, and vice versa', async () => {
    const root = path.join(tempRoot(), 'mlruns');
    const pending = StoreLock.acquirePending(root);
    try {
      assert.throws(() => StoreLock.acquire(root), StoreLockedError, 'an eager taker (runlens import) sees the pending owner');
      assert.equal(fs.existsSync(lockPath(root)), false, 'and leaves no lock of its own');
      assert.throws(() => StoreLock.acquirePending(root), StoreLockedError);
    } finally {
      pending.release();
    }
    const real = StoreLock.acquire(root);
    try {
      assert.throws(() => StoreLock.acquirePending(root), StoreLockedError, 'a pending taker sees the real owner');
      assert.equal(fs.existsSync(pendingLockPath(root)), false);
    } finally {
      real.release();
    }
  });

  it('takes over a stale pending lock whose process is gone', () => {
    const root = path.join(tempRoot(), 'mlruns');
    fs.mkdirSync(path.dirname(pendingLockPath(root)), { recursive: true });
    fs.writeFileSync(pendingLockPath(root), JSON.stringify({ pid: 2 ** 22 + 12345, hostname: require('node:os').hostname(), startedAt: 'then' }));
    const lock = StoreLock.acquirePending(root);
    assert.equal(readLockOwner(root)?.pid, process.pid);
    lock.release();
  });

  it('a write that cannot create the store is refused, and memory keeps only the Default experiment', async () => {
    const ws = tempRoot();
    const root = path.join(ws, 'mlruns');
    const opened = await openBackend({ kind: 'runlens', root }, { log: new MemoryLogger() });
    try {
      fs.writeFileSync(root, 'a file where the folder would go');
      await assert.rejects(opened.backend.createExperiment('lost'), /TEMPORARILY_UNAVAILABLE|cannot write|could not|EEXIST|ENOTDIR/i);
      const names = (await opened.backend.searchExperiments({})).items.map((e) => e.name);
      assert.deepEqual(names, ['Default'], 'the refused write is not visible');
      fs.rmSync(root);
      await opened.backend.createExperiment('kept');
      assert.ok(fs.existsSync(path.join(root, '.runlens', 'journal')));
    } finally {
      await opened.close();
    }
  });
});
