/**
 * A full disk, for real: a `runlens serve` process on a small tmpfs that is filled to the last
 * byte while clients log (with a tiny checkpoint threshold, so checkpoints run while it is full),
 * then freed. Every write answered 200 must survive; every write refused must not be visible;
 * the server must take writes again without a restart; a shutdown on a full disk must lose
 * nothing. Needs root (mount); skipped with a message where mounting is impossible.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCli } from '../support/cliServer';
import { tempRoot } from '../unit/helpers';

const A = '/api/2.0/mlflow';

async function call(url: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${A}${route}`, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** Fills the file system holding `dir` to the last byte; returns the filler to delete. */
function fill(dir: string): string {
  const filler = path.join(dir, `filler-${process.hrtime.bigint()}`);
  const fd = fs.openSync(filler, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (let size = chunk.length; size >= 1; ) {
      try {
        fs.writeSync(fd, chunk, 0, size);
      } catch {
        size = Math.floor(size / 2);
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filler;
}

/** Fills `dir`'s file system until it has stayed full (not a free block) for 0.5 s. */
async function fillSettled(dir: string): Promise<string[]> {
  const fillers: string[] = [];
  const free = () => {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  };
  for (let stable = 0, k = 0; stable < 2; k++) {
    assert.ok(k < 60, 'the disk stays full once filled');
    if (free() > 0) {
      fillers.push(fill(dir));
      stable = 0;
    } else stable++;
    await new Promise((r) => setTimeout(r, 250));
  }
  return fillers;
}

describe('safety: a full disk (tmpfs)', function () {
  this.timeout(120_000);
  let mnt = '';

  before(function () {
    mnt = tempRoot('runlens-tmpfs-');
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mnt], { encoding: 'utf8' });
    if (mount.status !== 0) {
      console.log(`      (skipped: cannot mount a tmpfs here: ${(mount.stderr || mount.error?.message || '').trim()}; run as root to test a full disk)`);
      this.skip();
    }
  });

  after(() => {
    if (mnt) spawnSync('umount', ['-l', mnt]);
  });

  it('answers 503 while full, shows only acknowledged writes, resumes without a restart, and a full-disk shutdown loses nothing', async () => {
    const root = path.join(mnt, 'store');
    let server = await startCli(root, 0.03);
    const exp = await call(server.url, '/experiments/create', { name: 'full-disk' });
    const runId = ((await call(server.url, '/runs/create', { experiment_id: exp.json.experiment_id, start_time: 1 })).json.run as { info: { run_id: string } }).info.run_id;
    const acked = new Set<number>();
    const refused: number[] = [];
    const statuses = new Map<number, number>();
    // Records of a few KB each, so writes fill pages part-way and get cut short.
    const batch = (i: number) => ({
      run_id: runId,
      metrics: [{ key: 'm', value: i, timestamp: 1000 + i, step: i }],
      tags: [{ key: `t${i}`, value: 'x'.repeat(1500 + (i % 7) * 300) }],
    });
    let i = 0;
    const send = async (): Promise<number> => {
      const n = i++;
      const r = await call(server.url, '/runs/log-batch', batch(n));
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) acked.add(n);
      else {
        refused.push(n);
        assert.equal(r.status, 503, JSON.stringify(r.json));
        assert.equal(r.json.error_code, 'TEMPORARILY_UNAVAILABLE');
        assert.match(String(r.json.message), /disk is full/);
        assert.doesNotMatch(String(r.json.message), new RegExp(mnt), 'no server paths in the message');
      }
      return r.status;
    };
    for (let k = 0; k < 40; k++) await send();
    const filler = fill(mnt);
    // Leave room for a few journal records but not for a snapshot: checkpoints fail on the way.
    fs.truncateSync(filler, fs.statSync(filler).size - 48 * 1024);
    // The journal writes into zeros it preallocated (journal.ts), so it keeps taking records for
    // a while after the disk fills: write on until that reserve is used up too (bounded).
    for (let k = 0; k < 80 || (refused.length === 0 && k < 3000); k++) await send();
    assert.match(server.stderr.join(''), /checkpoint failed/, 'a checkpoint ran out of space');
    assert.ok(refused.length > 0, `some writes were refused: ${JSON.stringify([...statuses])}`);
    console.log(`      while full: ${acked.size} acknowledged, ${refused.length} refused (${JSON.stringify([...statuses])})`);

    // An artifact upload on the full disk: 503, and no file appears. The server may still be
    // freeing space (a failed checkpoint deletes its half-written snapshot; a checkpoint that got
    // through after the store wrote again drops old journal files): fill until it stays full.
    const topUp = await fillSettled(mnt);
    const upload = await fetch(`${server.url}/api/2.0/mlflow-artifacts/artifacts/${exp.json.experiment_id}/${runId}/artifacts/big.bin`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: Buffer.alloc(512 * 1024, 7),
    });
    const uploadBody = (await upload.json()) as Record<string, unknown>;
    assert.equal(upload.status, 503, JSON.stringify(uploadBody));
    assert.equal(uploadBody.error_code, 'TEMPORARILY_UNAVAILABLE');
    const listed = await call(server.url, `/artifacts/list?run_id=${runId}`);
    assert.ok(!((listed.json.files ?? []) as { path: string }[]).some((f) => f.path === 'big.bin'), 'the cut-off upload left no file');

    // Nothing that was refused is visible, before any restart.
    const visible = async (): Promise<{ steps: Set<number>; tags: Set<string> }> => {
      const hist = await call(server.url, `/metrics/get-history?run_id=${runId}&metric_key=m`);
      assert.equal(hist.status, 200);
      const run = await call(server.url, `/runs/get?run_id=${runId}`);
      const data = (run.json.run as { data: { tags?: { key: string }[] } }).data;
      return {
        steps: new Set(((hist.json.metrics ?? []) as { step: number }[]).map((p) => p.step)),
        tags: new Set((data.tags ?? []).map((t) => t.key)),
      };
    };
    let seen = await visible();
    for (const n of refused) assert.ok(!seen.steps.has(n) && !seen.tags.has(`t${n}`), `refused write ${n} is not visible`);
    for (const n of acked) assert.ok(seen.steps.has(n) && seen.tags.has(`t${n}`), `acknowledged write ${n} is visible`);

    // Free the space: writes are taken again by the same process.
    fs.unlinkSync(filler);
    for (const f of topUp) fs.unlinkSync(f);
    const deadline = Date.now() + 15_000;
    while ((await send()) !== 200) {
      assert.ok(Date.now() < deadline, 'the server takes writes again within 15 s of space being freed');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (let k = 0; k < 20; k++) assert.equal(await send(), 200);

    // Full again, and a clean shutdown (its checkpoint cannot be written).
    const filler2 = fill(mnt);
    for (let k = 0; k < 10; k++) await send();
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)));
    server.child.kill('SIGTERM');
    await exited;
    fs.unlinkSync(filler2);

    server = await startCli(root, 0.03);
    try {
      seen = await visible();
      const expectSteps = [...acked].sort((a, b) => a - b);
      const hist = await call(server.url, `/metrics/get-history?run_id=${runId}&metric_key=m`);
      const stepsInOrder = ((hist.json.metrics ?? []) as { step: number }[]).map((p) => p.step).sort((a, b) => a - b);
      for (const n of expectSteps) assert.ok(seen.steps.has(n) && seen.tags.has(`t${n}`), `acknowledged write ${n} survived the restart`);
      assert.equal(new Set(stepsInOrder).size, stepsInOrder.length, 'no point stored twice');
      for (const n of refused) assert.ok(!seen.steps.has(n) && !seen.tags.has(`t${n}`), `refused write ${n} stayed out after the restart`);
      assert.equal((await send()), 200, 'writes work after the restart');
    } finally {
      const gone = new Promise((resolve) => server.child.once('exit', resolve));
      server.child.kill('SIGTERM');
      await gone;
    }
  });
});
