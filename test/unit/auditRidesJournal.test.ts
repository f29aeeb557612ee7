/**
 * The governed audit trail of a local store rides in the store's journal (sideFiles.ts): one
 * fdatasync covers a write and its entry. These tests check the trail is whole anyway: after a
 * crash that lost the file's unsynced tail, while the journal refuses writes, and that replaying
 * never writes over bytes the file holds.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { verifyAuditText } from '../../src/governance/auditLog';
import { parseGovernanceConfig } from '../../src/governance/config';
import { governStore } from '../../src/governance/open';
import { readJournal } from '../../src/store/journal';
import { readSideFileWithJournal } from '../../src/store/sideFileRead';
import { isSideAppend, SideFiles } from '../../src/store/sideFiles';
import { MlflowError } from '../../src/domain/errors';
import { withFaultyWrites } from '../support/faultyWrites';
import type { LocalStore } from '../../src/store/localStore';
import { MemoryLogger, openStore, tempRoot } from './helpers';

const TRAIL = path.join('.governance', 'audit.jsonl');
const cfg = parseGovernanceConfig('defaults: {team: ml}\npolicies:\n  require_tags: {tags: [owner], mode: warn}\n');
const plain = parseGovernanceConfig('defaults: {team: ml}\n');

/** The store governed with its trail riding in the store's journal (as `runlens serve` does). */
function govern(root: string, store: LocalStore, config = plain, log = new MemoryLogger()) {
  return governStore(store, { config, storeRoot: root, log, journaled: store });
}

/** Retries `write` until the store takes writes again (it refuses them for a while after a failure). */
async function untilWritable(write: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await write();
      return;
    } catch (err) {
      assert.ok(Date.now() < deadline, `the store takes writes again: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

function trailText(root: string): string {
  return fs.readFileSync(path.join(root, TRAIL), 'utf8');
}

function sideRecords(root: string): number {
  const dir = path.join(root, '.runlens', 'journal');
  let n = 0;
  for (const f of fs.readdirSync(dir)) for (const r of readJournal(path.join(dir, f)).records) if (isSideAppend(r) && r.file === TRAIL) n++;
  return n;
}

describe('audit trail in the store journal', () => {
  it('journals each entry with the write it audits, and restores a tail the file lost in a crash', async () => {
    const root = tempRoot('ride-');
    let store = await openStore(root);
    let g = await govern(root, store, cfg);
    const run = await g.store.createRun({ experimentId: '0' });
    const runId = run.info.run_id;
    for (let i = 0; i < 5; i++) await g.store.logMetric(runId, { key: 'm', value: i, timestamp: 1 + i, step: i });
    await g.store.updateRun(runId, { status: 'FINISHED', endTime: 100 });
    const whole = trailText(root);
    const check = verifyAuditText(whole);
    // create, 5 metrics, the end and its required-tags violation
    assert.deepEqual(check, { entries: 8, tornTail: false });
    assert.equal(sideRecords(root), 8, 'every entry is a journal record');
    assert.ok((await store.getRun(runId)).data.tags.some((t) => t.key.startsWith('genops.violation.')), 'the violation tag went out beside the end');

    // A crash (no checkpoint, no clean close) that lost the last three entries' bytes in the file.
    await g.governance.close();
    await store.close({ checkpoint: false });
    const lines = whole.split('\n');
    const cut = lines.slice(0, -4).join('\n') + '\n' + lines[lines.length - 4]!.slice(0, 20);
    fs.writeFileSync(path.join(root, TRAIL), cut);
    // Read without starting the store (the `runlens audit` commands): the journal's entries count.
    assert.equal(readSideFileWithJournal(root, TRAIL)?.toString('utf8'), whole);
    assert.equal(trailText(root), cut, 'reading changed no file');

    store = await openStore(root);
    g = await govern(root, store, cfg);
    try {
      assert.equal(trailText(root), whole, 'the journal put back what the file lost, byte for byte');
      await g.store.logMetric(runId, { key: 'm', value: 9, timestamp: 9, step: 9 });
      assert.deepEqual(verifyAuditText(trailText(root)), { entries: 9, tornTail: false });
      assert.equal((await g.governance.audit({ limit: 1 }))[0]!.seq, 9, 'the chain goes on after the restored entries');
    } finally {
      await g.governance.close();
      await store.close();
    }
    // A clean close checkpoints: the file is synced whole and the next start replays nothing into it.
    store = await openStore(root);
    try {
      assert.deepEqual(verifyAuditText(trailText(root)), { entries: 9, tornTail: false });
    } finally {
      await store.close();
    }
  });

  it('writes entries into the trail directly while the journal refuses writes, and the chain holds', async () => {
    const root = tempRoot('ride-full-');
    const store = await openStore(root);
    const log = new MemoryLogger();
    const g = await govern(root, store, plain, log);
    try {
      const runId = (await g.store.createRun({ experimentId: '0' })).info.run_id;
      await g.store.logMetric(runId, { key: 'm', value: 0, timestamp: 1, step: 0 });
      const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      // The first write (the group with the entry and the metric) fails; the rest go through.
      await withFaultyWrites(
        (call) => (call === 0 ? full : undefined),
        () => assert.rejects(g.store.logMetric(runId, { key: 'm', value: 1, timestamp: 2, step: 1 }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'TEMPORARILY_UNAVAILABLE'),
      );
      const during = await g.governance.audit({});
      assert.deepEqual(
        during.map((a) => [a.op, a.outcome]),
        [
          ['logMetric', 'failed'],
          ['logMetric', 'ok'],
          ['createRun', 'ok'],
        ],
      );
      assert.equal(during[0]!.cost_usd, 0, 'the failed write charged nothing');
      assert.equal(during[0]!.reverses, undefined, 'nothing recorded to take back');
      assert.deepEqual(verifyAuditText(trailText(root)), { entries: 3, tornTail: false });
      assert.equal(sideRecords(root), 2, 'the failed entry went into the file directly, not the journal');
      assert.equal(g.governance.runCost(runId).cost_usd, 0.0002, 'the create and the one metric that was stored');

      // Once the store writes again, entries ride the journal again, after the direct one.
      await untilWritable(() => g.store.logMetric(runId, { key: 'm', value: 2, timestamp: 3, step: 2 }));
      const text = trailText(root);
      const after = verifyAuditText(text);
      assert.equal(after.bad, undefined, JSON.stringify(after.bad));
      const ops = text.trim().split('\n').map((l) => (JSON.parse(l) as { op: string; outcome: string }).outcome);
      assert.deepEqual(ops.slice(0, 3), ['ok', 'ok', 'failed']);
      assert.equal(ops[ops.length - 1], 'ok');
    } finally {
      await g.governance.close();
      await store.close();
    }
  });

  it('replays a journaled append only where the file lacks it, never over other bytes', async () => {
    const root = tempRoot('side-');
    const rel = path.join('x', 'f.txt');
    fs.mkdirSync(path.join(root, 'x'));
    fs.writeFileSync(path.join(root, rel), 'hello ');
    const side = new SideFiles(root);
    try {
      side.replay({ t: 'side.append', file: rel, at: 0, text: 'hello ' }); // there already
      side.replay({ t: 'side.append', file: rel, at: 6, text: 'world\n' }); // missing: written
      side.replay({ t: 'side.append', file: rel, at: 0, text: 'HELLO ' }); // other bytes there: the file wins
      assert.equal(fs.readFileSync(path.join(root, rel), 'utf8'), 'hello world\n');
      assert.equal(side.size(rel), 12);
      const rec = side.reserve(rel, 'more\n');
      assert.equal(rec.at, 12);
      side.rewind(); // its journal write failed: the next append takes its place
      assert.equal(side.reserve(rel, 'again\n').at, 12);
      assert.throws(() => side.reserve(path.join('..', 'escape'), 'x'), /not inside the store/);
    } finally {
      await side.close();
    }
  });

  it('cuts a short write of an entry back (a full disk), so no torn bytes stay inside the chain', async () => {
    const root = tempRoot('ride-short-');
    const store = await openStore(root);
    const g = await govern(root, store);
    try {
      const runId = (await g.store.createRun({ experimentId: '0' })).info.run_id;
      await g.store.logMetric(runId, { key: 'm', value: 0, timestamp: 1, step: 0 });
      const nodeFs = require('node:fs') as { writeSync: (...args: unknown[]) => number };
      const real = nodeFs.writeSync;
      const isTrail = (fd: unknown): boolean => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${String(fd)}`).endsWith('audit.jsonl');
        } catch {
          return false;
        }
      };
      let n = 0;
      // The journal's space is preallocated, the trail's is not: 10 bytes fit, then ENOSPC.
      nodeFs.writeSync = (...args: unknown[]): number => {
        const [fd, buf, off, len, pos] = args as [number, Buffer, number, number, number];
        if (isTrail(fd) && ++n <= 2) {
          if (n === 1) return real(fd, buf, off, Math.min(10, len), pos);
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        }
        return real(...args);
      };
      try {
        await assert.rejects(g.store.logMetric(runId, { key: 'm', value: 1, timestamp: 2, step: 1 }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'TEMPORARILY_UNAVAILABLE');
      } finally {
        nodeFs.writeSync = real;
      }
      await untilWritable(() => g.store.logMetric(runId, { key: 'm', value: 2, timestamp: 3, step: 2 }));
      const v = verifyAuditText(trailText(root));
      assert.equal(v.bad, undefined, `${JSON.stringify(v.bad)}\n${trailText(root)}`);
      assert.deepEqual((await store.getMetricHistory(runId, 'm')).items.map((p) => p.step), [0, 2], 'the refused metric is not kept');
    } finally {
      await g.governance.close();
      await store.close();
    }
  });

  it('writes back entries a crash left as zeros (the size logged, the data not)', async () => {
    const root = tempRoot('ride-zeros-');
    let store = await openStore(root);
    let g = await govern(root, store);
    const runId = (await g.store.createRun({ experimentId: '0' })).info.run_id;
    for (let i = 0; i < 3; i++) await g.store.logMetric(runId, { key: 'm', value: i, timestamp: 1 + i, step: i });
    const whole = trailText(root);
    await g.governance.close();
    await store.close({ checkpoint: false });
    const keep = `${whole.split('\n').slice(0, -3).join('\n')}\n`;
    fs.writeFileSync(path.join(root, TRAIL), Buffer.concat([Buffer.from(keep), Buffer.alloc(Buffer.byteLength(whole) - Buffer.byteLength(keep))]));
    store = await openStore(root);
    g = await govern(root, store);
    try {
      assert.equal(trailText(root), whole, 'the journal put back the acknowledged entries');
    } finally {
      await g.governance.close();
      await store.close();
    }
  });

  it('a rewind while a direct append is being synced does not let the next append overwrite it', async () => {
    const root = tempRoot('side-direct-');
    const side = new SideFiles(root);
    try {
      const first = side.appendDirect('f.txt', 'first\n');
      while (side.size('f.txt') === 0) await Promise.resolve(); // written, its fdatasync in flight
      side.rewind(); // a journal write of the store failed meanwhile
      await first;
      await side.appendDirect('f.txt', 'second\n');
      assert.equal(fs.readFileSync(path.join(root, 'f.txt'), 'utf8'), 'first\nsecond\n');
    } finally {
      await side.close();
    }
  });
});
