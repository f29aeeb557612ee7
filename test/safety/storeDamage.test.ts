/**
 * Damaged files and short writes, the way an adversarial review found them: one flipped byte in
 * the journal, a truncated or damaged series file, a missing/corrupt/truncated snapshot, and a
 * write call that writes only part of its buffer without an error (the disk filled half-way).
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendSynced } from '../../src/store/durableFiles';
import { readJournal } from '../../src/store/journal';
import type { LocalStore } from '../../src/store/localStore';
import { StoreDamagedError } from '../../src/store/persistence';
import { withFaultyWrites } from '../support/faultyWrites';
import { MemoryLogger, openStore, tempRoot } from '../unit/helpers';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');
const state = (root: string, ...p: string[]) => path.join(root, '.runlens', ...p);
const journalFiles = (root: string) => fs.readdirSync(state(root, 'journal')).filter((f) => /^\d{8}\.log$/.test(f)).sort();

async function newRun(store: LocalStore): Promise<string> {
  const exp = await store.createExperiment(`e-${Math.random().toString(36).slice(2)}`);
  return (await store.createRun({ experimentId: exp, runName: 'r' })).info.run_id;
}

async function logBatches(store: LocalStore, runId: string, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    await store.logBatch(runId, { metrics: [{ key: 'm', value: i, timestamp: 1000 + i, step: i }], tags: [{ key: `t${i}`, value: String(i) }] });
  }
}

async function steps(store: LocalStore, runId: string, key = 'm'): Promise<number[]> {
  return (await store.getMetricHistory(runId, key)).items.map((p) => p.step);
}

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

const enospc = (): Error => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('safety: damaged files', function () {
  this.timeout(60_000);

  it('a flipped byte mid-journal costs that record only: every later acknowledged batch survives, and the skip is reported exactly', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 200);
    await a.close({ checkpoint: false });
    const file = state(root, 'journal', journalFiles(root).at(-1)!);
    const data = fs.readFileSync(file);
    const records = readJournal(file).records.length;
    // The middle of the journal: record 100 of the batches (after the two creates).
    let offset = 0;
    for (let i = 0; i < 103; i++) offset = data.indexOf(0x0a, offset) + 1; // Default experiment, experiment, run, then batches
    const length = data.indexOf(0x0a, offset) + 1 - offset;
    data[offset + Math.floor(length / 2)] ^= 0x20;
    fs.writeFileSync(file, data);
    const log = new MemoryLogger();
    const b = await openStore(root, { log });
    assert.equal(b.recovery.journalRecords, records - 1);
    assert.match(b.recovery.repairs.join('\n'), new RegExp(`skipped 1 damaged record\\(s\\) at offset ${offset} \\(${length} bytes`));
    const kept = await steps(b, runId);
    assert.deepEqual(kept, range(0, 200).filter((i) => i !== 100), '199 of 200 batches kept');
    const tags = new Set((await b.getRun(runId)).data.tags.map((t) => t.key));
    assert.ok(tags.has('t199') && tags.has('t101') && !tags.has('t100'));
    await b.close();
  });

  it('a truncated series file gives fewer points, never (step 0, ts 0, value 0), says so, and later points stay right', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 100);
    await a.close(); // checkpoint: the journal no longer holds these points
    const series = state(root, 'series', runId.slice(0, 2), `${runId}.bin`);
    fs.truncateSync(series, 32 * 50 + 7);
    const log = new MemoryLogger();
    const b = await openStore(root, { log });
    assert.deepEqual(await steps(b, runId), range(0, 50));
    assert.ok(log.lines.some((l) => l.startsWith('warn ') && l.includes(runId) && /holds 50 of 100 records/.test(l)), log.lines.join('\n'));
    await logBatches(b, runId, 100, 110); // written after a hole of 50 zeroed records
    const after = await steps(b, runId);
    assert.deepEqual(after, [...range(0, 50), ...range(100, 110)], 'the hole is not read as points');
    assert.ok(!(await b.getMetricHistory(runId, 'm')).items.some((p) => p.timestamp === 0));
    assert.ok(log.lines.some((l) => /50 of 110 records failed their check/.test(l)), log.lines.join('\n'));
    await b.close();
  });

  it('a flipped byte in a series record drops that point only', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 20);
    await a.close();
    const file = state(root, 'series', runId.slice(0, 2), `${runId}.bin`);
    const data = fs.readFileSync(file);
    data[32 * 7 + 27] ^= 0x01; // inside record 7's value
    fs.writeFileSync(file, data);
    const log = new MemoryLogger();
    const b = await openStore(root, { log });
    assert.deepEqual(await steps(b, runId), range(0, 20).filter((i) => i !== 7));
    assert.ok(log.lines.some((l) => /1 of 20 records failed their check/.test(l)));
    await b.close();
  });

  async function twoCheckpoints(root: string): Promise<string> {
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 30);
    await a.checkpoint();
    await logBatches(a, runId, 30, 60);
    await a.checkpoint();
    await logBatches(a, runId, 60, 90); // in the journal only
    await a.close({ checkpoint: false });
    return runId;
  }

  for (const [what, damage] of [
    ['corrupt', (f: string) => {
      const d = fs.readFileSync(f);
      d[Math.floor(d.length / 2)] ^= 0xff;
      fs.writeFileSync(f, d);
    }],
    ['truncated', (f: string) => fs.truncateSync(f, Math.floor(fs.statSync(f).size / 3))],
    ['missing', (f: string) => fs.unlinkSync(f)],
  ] as const) {
    it(`a ${what} snapshot stops start-up with the file named and what survives, and --recover loses nothing acknowledged`, async () => {
      const root = tempRoot();
      const runId = await twoCheckpoints(root);
      damage(state(root, 'store.sqlite'));
      await assert.rejects(openStore(root), (err: Error) => {
        assert.ok(err instanceof StoreDamagedError, String(err));
        assert.match(err.message, /store\.sqlite/);
        assert.match(err.message, what === 'missing' ? /is missing/ : what === 'truncated' ? /truncated/ : /checksum|does not open/);
        assert.match(err.message, /store\.prev\.sqlite.*losing nothing/);
        assert.match(err.message, /runlens serve --recover/);
        return true;
      });
      assert.ok(what === 'missing' || fs.existsSync(state(root, 'store.sqlite')), 'nothing was changed');
      const b = await openStore(root, { recover: true });
      assert.deepEqual(await steps(b, runId), range(0, 90));
      assert.match(b.recovery.repairs.join('\n'), /recovered from .*store\.prev\.sqlite/);
      await b.close();
      if (what !== 'missing') assert.ok(fs.readdirSync(state(root)).some((f) => f.startsWith('store.sqlite.damaged-')), 'damaged file kept');
      const c = await openStore(root); // a fresh snapshot was written: a normal start works again
      assert.deepEqual(await steps(c, runId), range(0, 90));
      await c.close();
    });
  }

  it('a damaged snapshot after a single checkpoint is rebuilt from the journal, which still starts at generation 1', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 40);
    await a.close();
    fs.truncateSync(state(root, 'store.sqlite'), 100);
    await assert.rejects(openStore(root), /rebuilt from the journal.*nothing lost/);
    const b = await openStore(root, { recover: true });
    assert.deepEqual(await steps(b, runId), range(0, 40));
    await b.close();
  });

  it('runlens doctor finds the damage without changing a file, --repair recovers, serve refuses then --recover serves', async () => {
    const root = tempRoot();
    const runId = await twoCheckpoints(root);
    const snap = state(root, 'store.sqlite');
    const d = fs.readFileSync(snap);
    d[d.length - 100] ^= 0x10;
    fs.writeFileSync(snap, d);
    const before = fs.readdirSync(state(root)).sort();
    const check = spawnSync(process.execPath, [CLI, 'doctor', '--root', root], { encoding: 'utf8' });
    assert.equal(check.status, 1, check.stdout + check.stderr);
    assert.match(check.stdout, /DAMAGED +store\.sqlite: its checksum does not match/);
    assert.deepEqual(fs.readdirSync(state(root)).sort(), before, 'doctor changes nothing');
    const serve = spawnSync(process.execPath, [CLI, 'serve', '--root', root, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(serve.status, 2);
    assert.match(serve.stderr, /cannot open the store .*store\.sqlite is damaged.*--recover/s);
    const repair = spawnSync(process.execPath, [CLI, 'doctor', '--root', root, '--repair'], { encoding: 'utf8' });
    assert.equal(repair.status, 0, repair.stdout + repair.stderr);
    assert.match(repair.stdout, /repaired .*recovered from .*store\.prev\.sqlite/);
    const b = await openStore(root);
    assert.deepEqual(await steps(b, runId), range(0, 90));
    await b.close();
  });
});

describe('safety: short writes and failed writes', function () {
  this.timeout(60_000);

  it('a journal write cut short (then ENOSPC) is not acknowledged, is not visible, is cut off the file, and writes resume without a restart', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 5);
    const journal = state(root, 'journal', journalFiles(root).at(-1)!);
    const sizeBefore = fs.statSync(journal).size;
    await withFaultyWrites(
      // Half the record, then the rest refused; zeroing the torn part inside the preallocated
      // zeros (no new block: a full disk takes it) goes through.
      (call, wanted) => (call === 0 ? Math.floor(wanted / 2) : call === 1 ? enospc() : undefined),
      async () => {
        await assert.rejects(a.logBatch(runId, { metrics: [{ key: 'm', value: 5, timestamp: 1005, step: 5 }], tags: [{ key: 'lost', value: 'x' }] }), (err: Error & { httpStatus?: number }) => {
          assert.equal(err.httpStatus, 503);
          assert.match(err.message, /disk is full.*Nothing from this request was saved/);
          return true;
        });
      },
    );
    assert.equal(fs.statSync(journal).size, sizeBefore, 'the torn half-record is cut off');
    assert.deepEqual(await steps(a, runId), range(0, 5), 'the failed write is not visible');
    assert.ok(!(await a.getRun(runId)).data.tags.some((t) => t.key === 'lost'));
    // Right after the failure writes are refused briefly (503), then accepted again by themselves.
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await a.logBatch(runId, { metrics: [{ key: 'm', value: 5, timestamp: 1005, step: 5 }] });
        break;
      } catch (err) {
        assert.equal((err as { httpStatus?: number }).httpStatus, 503);
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await logBatches(a, runId, 6, 10);
    await a.close({ checkpoint: false });
    const b = await openStore(root);
    assert.deepEqual(b.recovery.repairs, []);
    assert.deepEqual(await steps(b, runId), range(0, 10));
    await b.close();
  });

  it('a checkpoint whose snapshot write is cut short keeps the old snapshot and the journal; nothing is lost', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 20);
    await a.checkpoint();
    const good = fs.readFileSync(state(root, 'store.sqlite'));
    await logBatches(a, runId, 20, 40);
    let big = 0;
    await withFaultyWrites(
      (_call, wanted) => (wanted > 4096 && big++ === 0 ? Math.floor(wanted / 3) : wanted > 4096 ? enospc() : undefined),
      async () => {
        await assert.rejects(a.checkpoint(), /ENOSPC|short write/);
      },
    );
    assert.ok(fs.readFileSync(state(root, 'store.sqlite')).equals(good), 'the good snapshot is untouched');
    assert.ok(!fs.existsSync(state(root, 'store.sqlite.tmp')));
    await logBatches(a, runId, 40, 45); // writes go on
    await a.close({ checkpoint: false });
    const b = await openStore(root);
    assert.deepEqual(await steps(b, runId), range(0, 45));
    await b.close();
  });

  it('an append cut short (span payloads) is cut back, so the next append is not glued to a torn record', async () => {
    const file = path.join(tempRoot(), 'spans.jsonl');
    await appendSynced(file, Buffer.from('{"a":1}\n'));
    await withFaultyWrites(
      (call, wanted) => (call === 0 ? Math.floor(wanted / 2) : enospc()),
      () => assert.rejects(appendSynced(file, Buffer.from('{"b":2222222222}\n')), /ENOSPC/),
    );
    await appendSynced(file, Buffer.from('{"c":3}\n'));
    assert.equal(fs.readFileSync(file, 'utf8'), '{"a":1}\n{"c":3}\n');
  });

  it('a clean shutdown whose checkpoint fails (disk full) still closes, and the next start replays the journal', async () => {
    const root = tempRoot();
    const log = new MemoryLogger();
    const a = await openStore(root, { log });
    const runId = await newRun(a);
    await logBatches(a, runId, 0, 30);
    await withFaultyWrites((_c, wanted) => (wanted > 4096 ? enospc() : undefined), () => a.close());
    assert.ok(log.lines.some((l) => /shutdown checkpoint failed/.test(l)));
    const b = await openStore(root);
    assert.deepEqual(await steps(b, runId), range(0, 30));
    await b.close();
  });
});
