// The extension's server process (forkServer + `runlens serve --ready-ipc`), on plain Node: the
// same code the extension host runs, against the bundled CLI (npm run build first).
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { forkServer, ServerStartFailure, type ServerProcess } from '../../src/extension/backend/serverProcess';
import { RestartPolicy } from '../../src/extension/backend/restartPolicy';
import { asToChild, asToParent } from '../../src/serverIpc/protocol';
import { processAlive, readLockOwner } from '../../src/store/storeLock';
import type { Logger } from '../../src/domain/logger';
import { CLI_PATH } from '../support/runlensServe';
import { MemoryLogger, openStore, tempRoot, until } from './helpers';

describe('extension: the server process', function () {
  this.timeout(60_000);
  const started: ServerProcess[] = [];
  const fork = async (root: string, log: Logger = new MemoryLogger(true), extra: { port?: number; level?: 'debug' | 'info' } = {}): Promise<ServerProcess> => {
    const p = await forkServer({ cliPath: CLI_PATH, root, port: extra.port ?? 0, level: extra.level ?? 'info', log });
    started.push(p);
    return p;
  };
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop(2000)));
  });

  it('serves the store from its own process, which holds the lock, and stops with a checkpoint', async () => {
    const root = tempRoot();
    const log = new MemoryLogger(true);
    const child = await fork(root, log);
    assert.notEqual(child.pid, process.pid);
    assert.ok(processAlive(child.pid));
    assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await (await fetch(`${child.url}/health`)).text(), 'OK');
    assert.deepEqual([readLockOwner(root)?.pid, readLockOwner(root)?.url], [child.pid, child.url]);
    const res = await fetch(`${child.url}/api/2.0/mlflow/experiments/create`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'kept' }) });
    assert.equal(res.status, 200);
    await child.stop();
    assert.equal(child.stopping, true);
    const exit = await child.exited;
    assert.deepEqual([exit.code, exit.signal], [0, null]);
    assert.equal(readLockOwner(root), undefined, 'lock released');
    assert.ok(log.lines.some((l) => /^info the extension asked the server to stop: flushing the store/.test(l)), log.lines.join('\n'));
    const store = await openStore(root);
    assert.equal(store.recovery.journalRecords, 0, 'the stop wrote a snapshot: nothing left to replay');
    assert.ok((await store.searchExperiments({})).items.some((e) => e.name === 'kept'));
    await store.close();
  });

  it('sends its logs at the level asked for, and follows a level change', async () => {
    const log = new MemoryLogger(true);
    const child = await fork(tempRoot(), log);
    await fetch(`${child.url}/api/2.0/mlflow/experiments/search?max_results=1`);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!log.lines.some((l) => l.startsWith('debug') && l.includes('experiments/search')), 'no request lines at info');
    child.setLogLevel('debug');
    await new Promise((r) => setTimeout(r, 100));
    await fetch(`${child.url}/api/2.0/mlflow/experiments/search?max_results=2`);
    await until('a debug line for the request', () => log.lines.some((l) => l.startsWith('debug') && l.includes('experiments/search')));
  });

  it('reports a store another process owns as locked, naming the owner', async () => {
    const root = tempRoot();
    const first = await fork(root);
    await assert.rejects(fork(root), (err: unknown) => {
      assert.ok(err instanceof ServerStartFailure);
      assert.equal(err.reason, 'locked');
      assert.equal(err.owner?.pid, first.pid);
      assert.equal(err.owner?.url, first.url);
      return true;
    });
  });

  it('reports a taken port as portUnavailable and a damaged store as damaged', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const port = (blocker.address() as net.AddressInfo).port;
      await assert.rejects(fork(tempRoot(), new MemoryLogger(true), { port }), (err: unknown) => err instanceof ServerStartFailure && err.reason === 'portUnavailable' && err.code === 'EADDRINUSE');
    } finally {
      blocker.close();
    }
    const root = tempRoot();
    const store = await openStore(root);
    await store.createExperiment('a');
    await store.checkpoint();
    await store.createExperiment('b');
    await store.checkpoint();
    await store.close({ checkpoint: false });
    const snap = path.join(root, '.runlens', 'store.sqlite');
    const bytes = fs.readFileSync(snap);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(snap, bytes);
    await assert.rejects(fork(root), (err: unknown) => err instanceof ServerStartFailure && err.reason === 'damaged' && /store\.sqlite/.test(err.message));
    assert.equal(readLockOwner(root), undefined, 'a failed start leaves no lock');
  });

  it('says what a process that dies before it is ready printed', async () => {
    const script = path.join(tempRoot(), 'dies.js');
    fs.writeFileSync(script, "process.stderr.write('boom: cannot load\\n'); process.exit(3);");
    await assert.rejects(forkServer({ cliPath: script, root: tempRoot(), port: 0, level: 'info', log: new MemoryLogger(true) }), (err: unknown) => {
      assert.ok(err instanceof ServerStartFailure);
      assert.equal(err.reason, 'exited');
      assert.match(err.message, /exited with code 3 before it was ready: boom: cannot load/);
      return true;
    });
  });

  it('kills a server that does not stop in time', async () => {
    const child = await fork(tempRoot());
    process.kill(child.pid, 'SIGSTOP'); // a server stuck in a long synchronous call
    const t0 = Date.now();
    await child.stop(500);
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');
    assert.ok(Date.now() - t0 < 5000);
  });

  it('stops by itself, with a checkpoint, when the process that forked it dies without a word', async () => {
    const root = tempRoot();
    const mod = path.resolve(__dirname, '../../src/extension/backend/serverProcess.js');
    const parentCode = `require(${JSON.stringify(mod)}).forkServer({ cliPath: ${JSON.stringify(CLI_PATH)}, root: ${JSON.stringify(root)}, port: 0, level: 'info', log: { debug() {}, info() {}, warn() {}, error() {} } }).then((p) => { process.stdout.write(JSON.stringify({ pid: p.pid }) + '\\n'); setInterval(() => undefined, 1000); });`;
    const parent = spawn(process.execPath, ['-e', parentCode], { stdio: ['ignore', 'pipe', 'inherit'] });
    const childPid = await new Promise<number>((resolve, reject) => {
      let buf = '';
      parent.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /\{"pid":(\d+)\}/.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      parent.once('exit', (code) => reject(new Error(`parent exited with ${code}`)));
    });
    assert.ok(processAlive(childPid));
    parent.kill('SIGKILL');
    await until('the orphaned server to exit', () => !processAlive(childPid));
    assert.equal(readLockOwner(root), undefined, 'it released the lock, so it shut down cleanly');
  });
});

describe('extension: server restart policy', () => {
  it('restarts fast crashes with growing pauses, then gives up', () => {
    const p = new RestartPolicy({ delaysMs: [100, 400], healthyAfterMs: 1000 });
    assert.deepEqual(p.onCrash(10), { restart: true, delayMs: 100, attempt: 1 });
    assert.deepEqual(p.onCrash(10), { restart: true, delayMs: 400, attempt: 2 });
    assert.deepEqual(p.onCrash(10), { restart: false, crashes: 3 });
  });

  it('starts a new streak after a server that ran a while, or a restart the user asked for', () => {
    const p = new RestartPolicy({ delaysMs: [100, 400], healthyAfterMs: 1000 });
    p.onCrash(10);
    p.onCrash(10);
    assert.deepEqual(p.onCrash(5000), { restart: true, delayMs: 100, attempt: 1 });
    p.reset();
    assert.deepEqual(p.onCrash(10), { restart: true, delayMs: 100, attempt: 1 });
  });
});

describe('extension: server IPC messages', () => {
  it('accepts well-formed messages and drops anything else', () => {
    assert.deepEqual(asToParent({ type: 'ready', url: 'http://127.0.0.1:1', port: 1, pid: 2 }), { type: 'ready', url: 'http://127.0.0.1:1', port: 1, pid: 2 });
    assert.deepEqual(asToParent({ type: 'failed', reason: 'locked', message: 'm', owner: { pid: 1, hostname: 'h', startedAt: 't' } }), { type: 'failed', reason: 'locked', message: 'm', owner: { pid: 1, hostname: 'h', startedAt: 't' } });
    assert.equal(asToParent({ type: 'failed', reason: 'nope', message: 'm' }), undefined);
    assert.equal(asToParent({ type: 'log', level: 'loud', message: 'm' }), undefined);
    assert.equal(asToParent('ready'), undefined);
    assert.deepEqual(asToChild({ type: 'logLevel', level: 'warn' }), { type: 'logLevel', level: 'warn' });
    assert.equal(asToChild({ type: 'logLevel', level: 7 }), undefined);
  });
});
