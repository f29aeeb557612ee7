/**
 * Experiments, runs and metric histories of a legacy `mlruns/` file store, read as MLflow's
 * FileStore reads them: deleted experiments live in `.trash/`, a run's status is an integer enum
 * in `meta.yaml`, a metric file holds one `timestamp value [step]` line per logged point.
 */
import * as path from 'node:path';
import { TAG_RUN_NAME, type DatasetInput, type Experiment, type LifecycleStage, type Metric, type RunStatus, type Tag } from '../../domain/types';
import type { SourceRun } from '../api/source';
import { listDirs, readKeyFiles, readLines, readMeta, yamlNum, yamlStr } from './fsFiles';

export const TRASH = '.trash';
/** Folders inside an experiment folder that are not runs. */
const NOT_RUNS = new Set(['tags', 'datasets', 'models', 'traces']);
const RUN_STATUS: Record<number, RunStatus> = { 1: 'RUNNING', 2: 'SCHEDULED', 3: 'FINISHED', 4: 'FAILED', 5: 'KILLED' };

export interface FsExperiment {
  experiment: Experiment;
  dir: string;
}

/** Active experiments (folders of the root) then deleted ones (folders of `.trash/`). */
export function readExperiments(root: string): FsExperiment[] {
  const out: FsExperiment[] = [];
  for (const base of [root, path.join(root, TRASH)]) {
    for (const name of listDirs(base)) {
      if (base === root && name === TRASH) continue;
      const dir = path.join(base, name);
      const meta = readMeta(dir);
      // `models/` (the registry) and stray folders have no experiment meta.yaml.
      if (!meta || meta.experiment_id === undefined) continue;
      out.push({
        dir,
        experiment: {
          experiment_id: yamlStr(meta.experiment_id),
          name: yamlStr(meta.name),
          artifact_location: yamlStr(meta.artifact_location),
          lifecycle_stage: (yamlStr(meta.lifecycle_stage) || 'active') as LifecycleStage,
          creation_time: yamlNum(meta.creation_time),
          last_update_time: yamlNum(meta.last_update_time),
          tags: readKeyFiles(path.join(dir, 'tags')),
        },
      });
    }
  }
  return out;
}

/** Run folders of an experiment folder: those with a run `meta.yaml`. */
export function runDirs(experimentDir: string): string[] {
  return listDirs(experimentDir).filter((n) => !NOT_RUNS.has(n)).map((n) => path.join(experimentDir, n));
}

export function readRun(runDir: string, experimentDir: string): SourceRun | undefined {
  const meta = readMeta(runDir);
  if (!meta || (meta.run_id === undefined && meta.run_uuid === undefined)) return undefined;
  const runId = yamlStr(meta.run_id ?? meta.run_uuid);
  const tags = readKeyFiles(path.join(runDir, 'tags'));
  const runName = yamlStr(meta.run_name) || (tags.find((t) => t.key === TAG_RUN_NAME)?.value ?? '');
  const metrics: Metric[] = [];
  for (const { key, lines } of metricFiles(runDir)) {
    const latest = latestOf(lines.map((l) => parseMetricLine(key, l)));
    if (latest) metrics.push(latest);
  }
  const start = meta.start_time;
  const end = meta.end_time;
  return {
    info: {
      run_id: runId,
      run_uuid: runId,
      run_name: runName,
      experiment_id: yamlStr(meta.experiment_id),
      user_id: yamlStr(meta.user_id),
      status: RUN_STATUS[yamlNum(meta.status ?? 1)] ?? 'RUNNING',
      start_time: start === null || start === undefined ? null : yamlNum(start),
      end_time: end === null || end === undefined ? null : yamlNum(end),
      artifact_uri: yamlStr(meta.artifact_uri),
      lifecycle_stage: (yamlStr(meta.lifecycle_stage) || 'active') as LifecycleStage,
    },
    data: { metrics, params: readKeyFiles(path.join(runDir, 'params')), tags },
    inputs: runInputs(runDir, experimentDir),
    outputs: { model_outputs: modelOutputs(runDir) },
  };
}

function runInputs(runDir: string, experimentDir: string): SourceRun['inputs'] {
  const datasets: DatasetInput[] = [];
  const models: { model_id: string }[] = [];
  for (const name of listDirs(path.join(runDir, 'inputs'))) {
    const input = readMeta(path.join(runDir, 'inputs', name));
    if (!input) continue;
    if (input.source_type === 'MODEL') {
      models.push({ model_id: yamlStr(input.source_id) });
      continue;
    }
    if (input.source_type !== 'DATASET') continue;
    // A dataset folder that is gone is skipped, as MLflow skips it (with a warning).
    const ds = readMeta(path.join(experimentDir, 'datasets', yamlStr(input.source_id)));
    if (!ds) continue;
    const dataset: DatasetInput['dataset'] = { name: yamlStr(ds.name), digest: yamlStr(ds.digest), source_type: yamlStr(ds.source_type), source: yamlStr(ds.source) };
    if (ds.schema !== null && ds.schema !== undefined) dataset.schema = String(ds.schema);
    if (ds.profile !== null && ds.profile !== undefined) dataset.profile = String(ds.profile);
    const tags = input.tags && typeof input.tags === 'object' ? Object.entries(input.tags as Record<string, unknown>).map(([key, value]): Tag => ({ key, value: yamlStr(value) })) : [];
    datasets.push({ tags, dataset });
  }
  return { dataset_inputs: datasets, model_inputs: models };
}

function modelOutputs(runDir: string): { model_id: string; step: number }[] {
  const out: { model_id: string; step: number }[] = [];
  for (const name of listDirs(path.join(runDir, 'outputs'))) {
    const o = readMeta(path.join(runDir, 'outputs', name));
    if (o && o.destination_type === 'MODEL_OUTPUT') out.push({ model_id: yamlStr(o.destination_id), step: yamlNum(o.step) });
  }
  return out;
}

function metricFiles(runDir: string): { key: string; lines: string[] }[] {
  const dir = path.join(runDir, 'metrics');
  return readKeyFiles(dir).map(({ key }) => ({ key, lines: readLines(path.join(dir, key)) }));
}

/** The full history of every metric of a run. */
export function readMetricHistory(runDir: string): Metric[][] {
  return metricFiles(runDir).map(({ key, lines }) => lines.map((l) => parseMetricLine(key, l)));
}

/**
 * One metric line: `timestamp value`, `timestamp value step`, or `timestamp value step dataset
 * digest`. MLflow's reader takes the step only from 3-field lines (a 5-field line reads as step 0),
 * and this reports what MLflow reports.
 */
export function parseMetricLine(key: string, line: string): Metric {
  const parts = line.trim().split(' ');
  if (parts.length !== 2 && parts.length !== 3 && parts.length !== 5) {
    throw new Error(`Metric '${key}' is malformed; persisted metric data contained ${parts.length} fields. Expected 2, 3, or 5 fields.`);
  }
  return { key, timestamp: Number.parseInt(parts[0]!, 10), value: parsePyFloat(parts[1]!), step: parts.length === 3 ? Number.parseInt(parts[2]!, 10) : 0 };
}

/** Python's `float()` of a metric value: `nan`, `inf`, `-inf`, `Infinity` as well as numbers. */
export function parsePyFloat(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'nan' || t === '+nan' || t === '-nan') return NaN;
  if (/^[+-]?inf(inity)?$/.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  const n = Number(text);
  if (Number.isNaN(n) || text.trim() === '') throw new Error(`could not convert string to float: '${text}'`);
  return n;
}

/** `max(metrics, key=(step, timestamp, value))` with Python's tuple order: a NaN value never wins a tie. */
export function latestOf(metrics: Metric[]): Metric | undefined {
  let best: Metric | undefined;
  for (const m of metrics) {
    if (!best) best = m;
    else if (m.step !== best.step ? m.step > best.step : m.timestamp !== best.timestamp ? m.timestamp > best.timestamp : m.value !== best.value && m.value > best.value) best = m;
  }
  return best;
}
