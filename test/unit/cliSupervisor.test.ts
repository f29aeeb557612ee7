/**
 * One-shot CLI commands run in a child Node (the safe-exit re-exec, see src/cli.ts). A user or a
 * script that kills the `runlens` process they started, even with SIGKILL, must not leave that
 * child running with the store locked: the next command on the store works at once.
 */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { processAlive, readLockOwner, StoreLock } from '../../src/store/storeLock';
import { CLI_PATH } from '../support/runlensServe';
import { call, startTestServer, until, type TestServer } from './helpers';

/** A proxy to `target` that answers reads (searches too) and holds every write open: a publish that never ends. */
function stallingProxy(target: string): Promise<{ url: string; writes: () => number; close: () => Promise<void> }> {
  let posts = 0;
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && !/\/search(\?|$)/.test(req.url ?? '')) {
      posts++;
      held.push(res);
      return;
    }
    const up = http.request(new URL(req.url ?? '/', target), { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        writes: () => posts,
        close: () =>
          new Promise<void>((done) => {
            for (const res of held) res.destroy();
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

describe('CLI: a one-shot command killed outright leaves no process and no lock behind', function () {
  this.timeout(60_000);
  let local: TestServer;
  let remote: TestServer;
  let proc: ChildProcess | undefined;

  before(async () => {
    local = await startTestServer();
    const exp = (await call(local.server.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'pub' })).body.experiment_id as string;
    await call(local.server.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: 'r', start_time: 1 });
    await local.close();
    remote = await startTestServer();
  });

  after(async () => {
    proc?.kill('SIGKILL');
    await remote?.close();
  });

  it('SIGKILL on `runlens publish` mid-way: its worker drops the store lock and exits; the store can be taken at once', async () => {
    const proxy = await stallingProxy(remote.server.url);
    try {
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MLFLOW_TRACKING_')));
      proc = spawn(process.execPath, [CLI_PATH, 'publish', '--root', local.root, '--to', proxy.url, '--experiment', 'pub'], { stdio: 'ignore', env });
      await until('the publish to start writing', () => proxy.writes() > 0, 20_000);
      const owner = readLockOwner(local.root);
      assert.ok(owner, 'the publish holds the store lock');
      assert.notEqual(owner.pid, proc.pid, 'the lock is held by the re-exec\'d worker');
      assert.equal(owner.supervisor, proc.pid, 'the lock names the CLI process that supervises it');
      const exited = new Promise((r) => proc!.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      const lock = StoreLock.acquire(local.root); // waits for the orphaned worker if it must
      lock.release();
      await until('the worker to exit', () => !processAlive(owner.pid), 5_000);
    } finally {
      await proxy.close();
    }
  });
});
