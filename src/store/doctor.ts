/**
 * `runlens doctor`: checks a store's files without changing any (snapshots against their sums,
 * every journal record, every metric-series record) and says what a recovery would keep.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readJournal } from './journal';
import type { Logger } from '../domain/logger';
import { SeriesFiles } from './seriesFiles';
import { checkSnapshot, PREV_SNAPSHOT_FILE, SNAPSHOT_FILE } from './snapshot';
import { loadSqlJs, SqlDb } from './sqlite';
import { journalName, listGens, loadState } from './storeLoad';

export interface DoctorReport {
  /** What was checked, one line each. */
  checked: string[];
  /** Damage that a recovery repairs (or works around); empty when the store is healthy. */
  problems: string[];
  /** Metric points that failed their check: skipped on every read, and not recoverable. */
  lost: string[];
}

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function inspectStore(root: string): Promise<DoctorReport> {
  const dir = path.join(root, '.runlens');
  const report: DoctorReport = { checked: [], problems: [], lost: [] };
  if (!fs.existsSync(dir)) {
    report.problems.push(`${root} holds no Runlens store (no .runlens folder)`);
    return report;
  }
  for (const name of [SNAPSHOT_FILE, PREV_SNAPSHOT_FILE]) {
    const check = checkSnapshot(dir, name);
    if (check.ok) {
      const when = check.sum ? `, checkpoint of ${new Date(check.sum.time).toISOString()}, journal from generation ${check.sum.gen}` : ', written before checksums were kept';
      report.checked.push(`${name}: ${check.data.length} bytes${when}`);
    } else if (check.missing) {
      report.checked.push(`${name}: none`);
    } else {
      report.problems.push(`${name}: ${check.reason}`);
    }
  }
  const journalDir = path.join(dir, 'journal');
  const gens = fs.existsSync(journalDir) ? listGens(journalDir) : [];
  for (const gen of gens) {
    const read = readJournal(path.join(journalDir, journalName(gen)));
    report.checked.push(`journal/${journalName(gen)}: ${read.records.length} records`);
    for (const d of read.damaged) report.problems.push(`journal/${journalName(gen)}: damaged record at offset ${d.offset} (${d.length} bytes, ${d.reason})`);
    if (read.tornTail) report.checked.push(`journal/${journalName(gen)}: a torn last record (${read.tornTail.reason}); it was never acknowledged and is dropped at start`);
  }
  const SQL = await loadSqlJs();
  let state;
  try {
    state = loadState(SQL, dir, root, quiet, { write: () => undefined }, { recover: true, dryRun: true });
  } catch (err) {
    report.problems.push(`the store cannot be loaded: ${(err as Error).message}`);
    return report;
  }
  for (const r of state.report.repairs) if (!/torn record/.test(r)) report.problems.push(`recovery would: ${r}`);
  const db = new SqlDb(state.raw);
  try {
    const runs = db.all<{ run_uuid: string; series_len: number }>('SELECT run_uuid, series_len FROM runs WHERE series_len > 0');
    const experiments = Number(db.value('SELECT count(*) FROM experiments'));
    const allRuns = Number(db.value('SELECT count(*) FROM runs'));
    report.checked.push(`${experiments} experiments, ${allRuns} runs`);
    const series = new SeriesFiles(path.join(dir, 'series'), (msg) => report.lost.push(msg));
    let points = 0;
    for (const run of runs) {
      series.readKeyColumns(run.run_uuid, 0xffffffff, run.series_len); // checks every record of the file
      points += run.series_len;
    }
    await series.close();
    report.checked.push(`${runs.length} metric series files, ${points} points`);
  } finally {
    db.close();
  }
  return report;
}
