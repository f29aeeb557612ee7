import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeRecord, JournalWriter, readJournal } from '../../src/store/journal';
import type { LocalStore } from '../../src/store/localStore';
import { MemoryLogger, openStore, tempRoot } from './helpers';

const journalDir = (root: string) => path.join(root, '.runlens', 'journal');
const journalFiles = (root: string) => fs.readdirSync(journalDir(root)).filter((f) => f.endsWith('.log')).sort();
const lastJournal = (root: string) => path.join(journalDir(root), journalFiles(root).at(-1)!);

async function seed(store: LocalStore, steps = 50): Promise<string> {
  const exp = await store.createExperiment('durable');
  const run = await store.createRun({ experimentId: exp, runName: 'keeper' });
  await store.logParam(run.info.run_id, { key: 'lr', value: '0.01' });
  for (let s = 0; s < steps; s++) await store.logMetric(run.info.run_id, { key: 'loss', value: 1 / (s + 1), timestamp: 1000 + s, step: s });
  await store.setTag(run.info.run_id, { key: 'stage', value: 'done' });
  return run.info.run_id;
}

async function assertSeeded(store: LocalStore, runId: string, steps = 50): Promise<void> {
  const run = await store.getRun(runId);
  assert.equal(run.info.run_name, 'keeper');
  assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.01' }]);
  assert.equal(run.data.tags.find((t) => t.key === 'stage')?.value, 'done');
  const history = await store.getMetricHistory(runId, 'loss');
  assert.deepEqual(history.items.map((m) => m.step), Array.from({ length: steps }, (_, i) => i), 'history complete, no duplicates');
  assert.equal(run.data.metrics[0]!.step, steps - 1);
}

describe('durability', () => {
  it('survives a clean restart (checkpoint on close)', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await seed(a);
    await a.close();
    assert.ok(fs.existsSync(path.join(root, '.runlens', 'store.sqlite')));
    const b = await openStore(root);
    assert.equal(b.recovery.snapshotLoaded, true);
    assert.equal(b.recovery.journalRecords, 0);
    await assertSeeded(b, runId);
    await b.close();
  });

  it('recovers acknowledged writes from the journal alone after a crash (no close)', async () => {
    const root = tempRoot();
    const crashed = await openStore(root);
    const runId = await seed(crashed);
    // Leave only what a crash leaves: the fsynced journal, no snapshot.
    await crashed.close({ checkpoint: false });
    const b = await openStore(root);
    assert.equal(b.recovery.snapshotLoaded, false);
    assert.ok(b.recovery.journalRecords >= 53);
    await assertSeeded(b, runId);
    await b.close();
  });

  it('replays only the journal after the last checkpoint, without duplicating history', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await seed(a, 20);
    await a.checkpoint();
    for (let s = 20; s < 50; s++) await a.logMetric(runId, { key: 'loss', value: 1 / (s + 1), timestamp: 1000 + s, step: s });
    await a.close({ checkpoint: false }); // as a crash after checkpoint + more writes
    const b = await openStore(root);
    assert.equal(b.recovery.snapshotLoaded, true);
    assert.equal(b.recovery.journalRecords, 30);
    await assertSeeded(b, runId);
    await b.close();
  });

  it('checkpoints automatically by journal size and drops journals no snapshot needs (kept back to the previous snapshot)', async () => {
    const root = tempRoot();
    const a = await openStore(root, { checkpointBytes: 4096 });
    const runId = await seed(a, 200);
    await a.checkpoint();
    // The newest snapshot needs the last file; the previous one the file before it.
    assert.equal(journalFiles(root).length, 2, `journals: ${journalFiles(root).join(',')}`);
    assert.ok(fs.existsSync(path.join(root, '.runlens', 'store.prev.sqlite')));
    await a.close({ checkpoint: false });
    const b = await openStore(root);
    await assertSeeded(b, runId, 200);
    await b.close();
  });

  it('counts the journal replayed at start-up towards the checkpoint threshold (a server killed every time still compacts)', async () => {
    const root = tempRoot();
    const snapshot = path.join(root, '.runlens', 'store.sqlite');
    let runId = '';
    let lives = 0;
    while (!fs.existsSync(snapshot) && lives < 10) {
      const s = await openStore(root, { checkpointBytes: 4096 });
      if (!runId) runId = (await s.createRun({ experimentId: '0', runName: 'restarts' })).info.run_id;
      // Well under the threshold per life: only the replayed bytes can take it over.
      for (let k = 0; k < 10; k++) await s.logMetric(runId, { key: 'loss', value: lives, timestamp: 1000 + lives * 10 + k, step: lives * 10 + k });
      await s.close({ checkpoint: false }); // as a kill: no snapshot on the way out
      lives++;
      assert.ok(lives > 1 || !fs.existsSync(snapshot), 'one life alone stays under the threshold');
    }
    assert.ok(fs.existsSync(snapshot), `no checkpoint after ${lives} short lives`);
    const b = await openStore(root);
    assert.equal((await b.getMetricHistory(runId, 'loss')).items.length, lives * 10);
    assert.ok(b.recovery.journalRecords < lives * 10, 'start-up replays less than everything');
    await b.close();
  });

  it('drops a torn record at the journal tail with a warning, and keeps working', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await seed(a);
    await a.close({ checkpoint: false });
    const file = lastJournal(root);
    const torn = encodeRecord({ t: 'run.log', uuid: runId, metrics: [['loss', 0, 1, 999]], params: [], tags: [] });
    fs.appendFileSync(file, torn.subarray(0, torn.length - 7)); // cut off mid-record
    const log = new MemoryLogger();
    const b = await openStore(root, { log });
    assert.match(b.recovery.repairs.join('\n'), /dropped a torn record/);
    assert.ok(log.lines.some((l) => l.startsWith('warn ') && l.includes('torn record')));
    await assertSeeded(b, runId);
    await b.logMetric(runId, { key: 'loss', value: 0, timestamp: 5000, step: 50 });
    await b.close({ checkpoint: false });
    const c = await openStore(root);
    assert.equal(c.recovery.repairs.length, 0, 'tail was truncated, so the next start is clean');
    assert.equal((await c.getMetricHistory(runId, 'loss')).items.length, 51);
    await c.close();
  });

  it('skips a corrupted record in the middle, keeps every intact record after it and says what it skipped', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await seed(a, 10);
    await a.setTag(runId, { key: 'after', value: 'corruption' });
    await a.close({ checkpoint: false });
    const file = lastJournal(root);
    const data = fs.readFileSync(file);
    const total = readJournal(file).records.length;
    // Flip a byte inside the 5th record's JSON (a metric point: nothing later depends on it).
    let offset = 0;
    for (let i = 0; i < 4; i++) offset = data.indexOf(0x0a, offset) + 1;
    const fifthLength = data.indexOf(0x0a, offset) + 1 - offset;
    data[offset + 20] = data[offset + 20]! ^ 0x01;
    fs.writeFileSync(file, data);
    const log = new MemoryLogger();
    const b = await openStore(root, { log });
    assert.equal(b.recovery.journalRecords, total - 1, 'only the damaged record is lost');
    assert.match(b.recovery.repairs.join('\n'), new RegExp(`skipped 1 damaged record\\(s\\) at offset ${offset} \\(${fifthLength} bytes, checksum mismatch\\)`));
    assert.ok(log.lines.some((l) => l.startsWith('error ')));
    assert.ok(fs.readdirSync(journalDir(root)).some((f) => f.includes('.corrupt-')), 'damaged file saved for inspection');
    const run = await b.getRun(runId);
    assert.equal(run.data.tags.find((t) => t.key === 'after')?.value, 'corruption', 'records after the damage are kept');
    assert.equal((await b.getMetricHistory(runId, 'loss')).items.length, 9);
    await b.close();
    // A fresh snapshot was written: the next start does not meet the damage again.
    const c = await openStore(root);
    assert.equal(c.recovery.repairs.length, 0);
    assert.equal((await c.getMetricHistory(runId, 'loss')).items.length, 9);
    await c.close();
  });

  it('ignores series bytes beyond what the journal acknowledged', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const runId = await seed(a, 5);
    await a.close({ checkpoint: false });
    const seriesFile = path.join(root, '.runlens', 'series', runId.slice(0, 2), `${runId}.bin`);
    fs.appendFileSync(seriesFile, Buffer.alloc(96, 0xff)); // junk from an unacknowledged write
    const b = await openStore(root);
    assert.equal((await b.getMetricHistory(runId, 'loss')).items.length, 5);
    await b.close();
  });
});

describe('journal writer', () => {
  it('acknowledges concurrent appends in group commits and reads them back in order', async () => {
    const file = path.join(tempRoot(), 'j.log');
    const w = await JournalWriter.open(file);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 500 }, (_, i) => w.append(encodeRecord({ i }), () => order.push(i))));
    await w.close();
    assert.deepEqual(order, Array.from({ length: 500 }, (_, i) => i), 'afterDurable runs in append order');
    const read = readJournal(file);
    assert.equal(read.tornTail, undefined);
    assert.deepEqual(read.damaged, []);
    assert.deepEqual(read.records, Array.from({ length: 500 }, (_, i) => ({ i })));
  });

  it('switches files so earlier records land in the old one', async () => {
    const dir = tempRoot();
    const w = await JournalWriter.open(path.join(dir, 'a.log'));
    const first = Array.from({ length: 50 }, (_, i) => w.append(encodeRecord({ a: i })));
    const next = await JournalWriter.openNext(path.join(dir, 'b.log'));
    const drained = w.switchTo(next);
    const second = Array.from({ length: 50 }, (_, i) => w.append(encodeRecord({ b: i })));
    await drained;
    await Promise.all([...first, ...second]);
    await w.close();
    assert.equal(readJournal(path.join(dir, 'a.log')).records.length, 50);
    assert.deepEqual(readJournal(path.join(dir, 'b.log')).records[0], { b: 0 });
  });

  it('classifies damage: missing newline and bad checksum', () => {
    const dir = tempRoot();
    const good = encodeRecord({ ok: 1 });
    fs.writeFileSync(path.join(dir, 'torn.log'), Buffer.concat([good, Buffer.from('0000')]));
    const torn = readJournal(path.join(dir, 'torn.log'));
    assert.equal(torn.records.length, 1);
    assert.equal(torn.goodBytes, good.length);
    assert.match(torn.tornTail!.reason, /no newline/);
    const bad = Buffer.from(good);
    bad[12] = bad[12]! ^ 0xff;
    fs.writeFileSync(path.join(dir, 'bad.log'), Buffer.concat([bad, good]));
    const corrupt = readJournal(path.join(dir, 'bad.log'));
    assert.equal(corrupt.records.length, 1, 'the intact record after the damaged one is read');
    assert.equal(corrupt.damaged.length, 1);
    assert.equal(corrupt.damaged[0]!.offset, 0);
    assert.match(corrupt.damaged[0]!.reason, /checksum|parse|header/);
  });
});
