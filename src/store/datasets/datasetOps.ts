/**
 * Journaled mutations of evaluation datasets and registered scorers. As in ops.ts: each op
 * carries every value it needs (ids, times, digests, whole merged records), callers validate
 * first, and applying never fails half-way.
 */
import type { SqlDb } from '../sqlite';
import type { DatasetRecord } from '../../domain/datasetTypes';

/** A tag as MLflow stores it: a null value is kept (create) and reported as null. */
export type DatasetTag = [key: string, value: string | null];

/** One record's full state after an upsert; replaces any stored record with the same id. */
export interface JournalRecord {
  key: string;
  record: DatasetRecord;
}

export type DatasetOp =
  | {
      t: 'ds.create';
      id: string;
      name: string;
      digest: string;
      time: number;
      createdBy: string | null;
      tags: DatasetTag[];
      experimentIds: string[];
    }
  | { t: 'ds.delete'; id: string }
  | { t: 'ds.setTags'; id: string; tags: DatasetTag[] }
  | { t: 'ds.deleteTag'; id: string; key: string }
  | {
      t: 'ds.records';
      id: string;
      records: JournalRecord[];
      time: number;
      digest: string;
      lastUpdatedBy: string | null;
      /** New schema / profile JSON; absent keeps the stored one. */
      schema?: string;
      profile?: string;
    }
  | { t: 'ds.deleteRecords'; id: string; recordIds: string[]; profile?: string }
  | { t: 'ds.link'; id: string; experimentIds: string[]; time: number }
  | { t: 'ds.unlink'; id: string; experimentIds: string[]; time: number }
  | { t: 'sc.register'; scorerId: string; exp: number; name: string; version: number; serialized: string; time: number }
  /** No version: the scorer and all its versions go. A version: only it (the scorer row stays). */
  | { t: 'sc.delete'; scorerId: string; version?: number };

export function isDatasetOp(op: { t: string }): op is DatasetOp {
  return op.t.startsWith('ds.') || op.t.startsWith('sc.');
}

function putTags(db: SqlDb, id: string, tags: DatasetTag[]): void {
  for (const [k, v] of tags) {
    db.run('INSERT INTO eval_dataset_tags (dataset_id, key, value) VALUES (?, ?, ?) ON CONFLICT (dataset_id, key) DO UPDATE SET value = excluded.value', [id, k, v]);
  }
}

function link(db: SqlDb, id: string, experimentIds: string[]): void {
  for (const e of experimentIds) db.run('INSERT OR IGNORE INTO eval_dataset_experiments (dataset_id, experiment_id) VALUES (?, ?)', [id, e]);
}

export function applyDatasetOp(db: SqlDb, op: DatasetOp): void {
  switch (op.t) {
    case 'ds.create':
      db.run(
        `INSERT INTO eval_datasets (dataset_id, name, digest, schema, profile, created_time, last_update_time, created_by, last_updated_by)
         VALUES (?, ?, ?, NULL, NULL, ?, ?, ?, ?)`,
        [op.id, op.name, op.digest, op.time, op.time, op.createdBy, op.createdBy],
      );
      putTags(db, op.id, op.tags);
      link(db, op.id, op.experimentIds);
      return;
    case 'ds.delete':
      for (const table of ['eval_dataset_tags', 'eval_dataset_experiments', 'eval_dataset_records', 'eval_datasets']) {
        db.run(`DELETE FROM ${table} WHERE dataset_id = ?`, [op.id]);
      }
      return;
    case 'ds.setTags':
      putTags(db, op.id, op.tags);
      return;
    case 'ds.deleteTag':
      db.run('DELETE FROM eval_dataset_tags WHERE dataset_id = ? AND key = ?', [op.id, op.key]);
      return;
    case 'ds.records':
      for (const { key, record } of op.records) {
        db.run(
          `INSERT INTO eval_dataset_records (dataset_record_id, dataset_id, input_key, body, created_time) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (dataset_record_id) DO UPDATE SET body = excluded.body`,
          [record.dataset_record_id, op.id, key, JSON.stringify(record), record.created_time],
        );
      }
      db.run('UPDATE eval_datasets SET last_update_time = ?, last_updated_by = ?, digest = ? WHERE dataset_id = ?', [op.time, op.lastUpdatedBy, op.digest, op.id]);
      if (op.schema !== undefined) db.run('UPDATE eval_datasets SET schema = ? WHERE dataset_id = ?', [op.schema, op.id]);
      if (op.profile !== undefined) db.run('UPDATE eval_datasets SET profile = ? WHERE dataset_id = ?', [op.profile, op.id]);
      return;
    case 'ds.deleteRecords':
      for (const r of op.recordIds) db.run('DELETE FROM eval_dataset_records WHERE dataset_id = ? AND dataset_record_id = ?', [op.id, r]);
      if (op.profile !== undefined) db.run('UPDATE eval_datasets SET profile = ? WHERE dataset_id = ?', [op.profile, op.id]);
      return;
    case 'ds.link':
      link(db, op.id, op.experimentIds);
      db.run('UPDATE eval_datasets SET last_update_time = ? WHERE dataset_id = ?', [op.time, op.id]);
      return;
    case 'ds.unlink':
      for (const e of op.experimentIds) db.run('DELETE FROM eval_dataset_experiments WHERE dataset_id = ? AND experiment_id = ?', [op.id, e]);
      db.run('UPDATE eval_datasets SET last_update_time = ? WHERE dataset_id = ?', [op.time, op.id]);
      return;
    case 'sc.register':
      db.run('INSERT OR IGNORE INTO scorers (scorer_id, experiment_id, name) VALUES (?, ?, ?)', [op.scorerId, op.exp, op.name]);
      db.run('INSERT INTO scorer_versions (scorer_id, version, serialized, creation_time) VALUES (?, ?, ?, ?)', [op.scorerId, op.version, op.serialized, op.time]);
      return;
    case 'sc.delete':
      if (op.version === undefined) {
        db.run('DELETE FROM scorer_versions WHERE scorer_id = ?', [op.scorerId]);
        db.run('DELETE FROM scorers WHERE scorer_id = ?', [op.scorerId]);
      } else {
        db.run('DELETE FROM scorer_versions WHERE scorer_id = ? AND version = ?', [op.scorerId, op.version]);
      }
      return;
  }
}
