/**
 * Preallocated journal files (journal.ts): records are written into zeros written ahead of them,
 * so readers must take a zero tail as the end of the journal, a cut-off group in the zeros as a
 * torn tail (never as damage), and a writer reopened after a crash must continue right after the
 * last record, not after the zeros.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeRecord, JournalWriter, parseJournal, PREALLOCATE_BYTES, readJournal } from '../../src/store/journal';
import { openStore, tempRoot, until } from './helpers';

const records = (n: number, tag: string): Buffer[] => Array.from({ length: n }, (_, i) => encodeRecord({ [tag]: i, pad: 'x'.repeat(i % 50) }));

describe('journal preallocation', () => {
  it('writes records into preallocated zeros; the zero tail reads as the end, and close drops it', async () => {
    const file = path.join(tempRoot(), 'j.log');
    const w = await JournalWriter.open(file);
    const recs = records(20, 'a');
    for (const r of recs) await w.append(r);
    const used = recs.reduce((n, r) => n + r.length, 0);
    await until('the preallocation', () => fs.statSync(file).size >= PREALLOCATE_BYTES);
    const open = readJournal(file);
    assert.equal(open.records.length, 20);
    assert.equal(open.goodBytes, used);
    assert.equal(open.tornTail, undefined, 'zeros are not a torn record');
    assert.deepEqual(open.damaged, []);
    await w.close();
    assert.equal(fs.statSync(file).size, used, 'a closed file ends at its last record');
  });

  it('a writer reopened on a crashed (zero-tailed) file continues right after the last record', async () => {
    const file = path.join(tempRoot(), 'j.log');
    const a = await JournalWriter.open(file);
    for (const r of records(10, 'a')) await a.append(r);
    await until('the preallocation', () => fs.statSync(file).size >= PREALLOCATE_BYTES);
    // A crash: the file keeps its zeros (the old handle is never closed through the writer).
    const crashed = Buffer.from(fs.readFileSync(file));
    const copy = path.join(path.dirname(file), 'copy.log');
    fs.writeFileSync(copy, crashed);
    await a.close();
    const b = await JournalWriter.open(copy);
    for (const r of records(10, 'b')) await b.append(r);
    const read = readJournal(copy);
    assert.deepEqual(read.records.map((r) => Object.keys(r as object)[0]), [...Array(10).fill('a'), ...Array(10).fill('b')]);
    assert.equal(read.tornTail, undefined);
    assert.deepEqual(read.damaged, []);
    await b.close();
  });

  it('a group cut off in the zeros is a torn tail, also when a later page of it landed before an earlier one', () => {
    const good = Buffer.concat(records(5, 'g'));
    const next = encodeRecord({ lost: 'y'.repeat(300) });
    const zeros = (n: number): Buffer => Buffer.alloc(n);
    // The record's first part landed, its end (with the newline) did not.
    const headOnly = parseJournal(Buffer.concat([good, next.subarray(0, 100), zeros(8192)]));
    assert.equal(headOnly.records.length, 5);
    assert.equal(headOnly.goodBytes, good.length);
    assert.equal(headOnly.tornTail?.offset, good.length);
    assert.deepEqual(headOnly.damaged, []);
    // Its end landed (a later page written back first), its start did not: zeros, then the rest.
    const tailOnly = parseJournal(Buffer.concat([good, zeros(100), next.subarray(100), zeros(8192)]));
    assert.equal(tailOnly.records.length, 5);
    assert.equal(tailOnly.goodBytes, good.length);
    assert.ok(tailOnly.tornTail, 'unacknowledged, so torn, not damage');
    assert.deepEqual(tailOnly.damaged, []);
    // Zeros in the middle, with records after them, are damage: the later records are kept.
    const middle = parseJournal(Buffer.concat([good, zeros(64), Buffer.from('\n'), next, zeros(100)]));
    assert.equal(middle.records.length, 6);
    assert.equal(middle.damaged.length, 1);
    assert.equal(middle.tornTail, undefined);
  });

  it('rolls over into new preallocations when the records outgrow them, losing nothing', async () => {
    const file = path.join(tempRoot(), 'j.log');
    const w = await JournalWriter.open(file);
    const big = 'z'.repeat(3000);
    const n = Math.ceil((2.5 * PREALLOCATE_BYTES) / 3000);
    // Bursts of concurrent appends (group commits of many records) across several extensions.
    for (let i = 0; i < n; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => w.append(encodeRecord({ i: i + k, big }))));
    }
    const read = readJournal(file);
    assert.equal(read.records.length, n);
    assert.deepEqual(read.records.map((r) => (r as { i: number }).i), Array.from({ length: n }, (_, i) => i));
    assert.equal(read.tornTail, undefined);
    assert.deepEqual(read.damaged, []);
    await w.close();
    assert.equal(fs.statSync(file).size, read.goodBytes);
  });

  it('a store whose process died (journal with a zero tail) reopens with no repair and every write', async () => {
    const root = tempRoot();
    const a = await openStore(root);
    const exp = await a.createExperiment('crash');
    const run = await a.createRun({ experimentId: exp, runName: 'r' });
    for (let s = 0; s < 30; s++) await a.logMetric(run.info.run_id, { key: 'loss', value: s, timestamp: s, step: s });
    const journal = path.join(root, '.runlens', 'journal');
    await until('the preallocation', () => fs.readdirSync(journal).some((f) => fs.statSync(path.join(journal, f)).size >= PREALLOCATE_BYTES));
    const copy = tempRoot();
    fs.cpSync(path.join(root, '.runlens'), path.join(copy, '.runlens'), { recursive: true, filter: (src) => !src.endsWith('.lock') && !src.endsWith('lock.json') });
    await a.close({ checkpoint: false });
    for (const f of fs.readdirSync(path.join(copy, '.runlens'))) if (/lock/.test(f)) fs.rmSync(path.join(copy, '.runlens', f), { force: true });
    const b = await openStore(copy);
    assert.deepEqual(b.recovery.repairs, []);
    const history = await b.getMetricHistory(run.info.run_id, 'loss');
    assert.deepEqual(history.items.map((m) => m.step), Array.from({ length: 30 }, (_, i) => i));
    await b.close();
  });
});
