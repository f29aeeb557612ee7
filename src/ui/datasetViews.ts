/** Evaluation datasets as the views show them, from MLflow 3's dataset REST answers. */
import type { WireDatasetRecord, WireEvalDataset } from '../client/wireTypes';
import type { EvalDatasetRow, EvalRecordView } from './protocol';

function parsed(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function toEvalDatasetRow(d: WireEvalDataset): EvalDatasetRow {
  const tags = parsed(d.tags);
  const userTags: Record<string, string> = {};
  if (tags && typeof tags === 'object') {
    for (const [k, v] of Object.entries(tags as Record<string, unknown>)) if (!k.startsWith('mlflow.') && v !== null) userTags[k] = String(v);
  }
  const profile = parsed(d.profile) as { num_records?: unknown } | null | undefined;
  const row: EvalDatasetRow = { datasetId: d.dataset_id, name: d.name, createdTime: Number(d.created_time), lastUpdateTime: Number(d.last_update_time), tags: userTags };
  if (typeof profile?.num_records === 'number') row.records = profile.num_records;
  else if (d.profile !== undefined) row.records = 0; // MLflow writes "null" once every record is deleted
  if (d.created_by) row.createdBy = d.created_by;
  return row;
}

export function toEvalRecordView(r: WireDatasetRecord): EvalRecordView {
  const v: EvalRecordView = {
    recordId: r.dataset_record_id,
    inputs: r.inputs,
    tags: r.tags ?? {},
    createdTime: Number(r.created_time),
    lastUpdateTime: Number(r.last_update_time),
  };
  if (r.expectations !== undefined) v.expectations = r.expectations;
  if (r.outputs !== undefined) v.outputs = r.outputs;
  if (r.source_type) v.sourceType = r.source_type;
  if (r.source_id) v.sourceId = r.source_id;
  return v;
}

export function schemaOf(d: WireEvalDataset): unknown {
  return parsed(d.schema);
}
