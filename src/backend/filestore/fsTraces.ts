/**
 * Traces of a file-store experiment (`<experiment>/traces/<trace_id>/`): `trace_info.yaml` (MLflow
 * 3's TraceInfo dict, or MLflow 2's TraceInfoV2 dict, read as v3), `tags/` and `request_metadata/`
 * folders, `assessments/<id>.yaml` (Assessment proto dicts), spans in the artifact `traces.json`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { durationJson, timestampJson } from '../../store/traces/traceRows';
import { TraceKeys, type Assessment, type TraceInfo } from '../../domain/traceTypes';
import type { SourceTrace } from '../api/source';
import { readTraceArtifactSpans, traceState } from '../transfer/traceArtifacts';
import { isMissing, listDirs, parseMetaYaml, readKeyFiles, readMeta, yamlNum, yamlStr } from './fsFiles';

/** `artifactDir` maps the trace's `mlflow.artifactLocation` tag to a local folder, when it can. */
export function* readTraces(experimentDir: string, artifactDir: (uri: string) => string | undefined): Generator<SourceTrace> {
  const tracesDir = path.join(experimentDir, 'traces');
  for (const id of listDirs(tracesDir)) {
    const dir = path.join(tracesDir, id);
    const meta = readMeta(dir, 'trace_info.yaml');
    if (!meta) continue;
    const info = traceInfo(meta, dir);
    const location = info.tags[TraceKeys.artifactLocation];
    const spansDir = location !== undefined ? artifactDir(location) : path.join(dir, 'artifacts');
    yield { info, spans: readTraceArtifactSpans(spansDir) };
  }
}

function traceInfo(meta: Record<string, unknown>, dir: string): TraceInfo {
  const v2 = meta.request_id !== undefined && meta.trace_id === undefined;
  const fromFolder = (name: string): Record<string, string> => Object.fromEntries(readKeyFiles(path.join(dir, name)).map((t) => [t.key, t.value]));
  const location = meta.trace_location as { mlflow_experiment?: { experiment_id?: unknown } } | undefined;
  const info: TraceInfo = {
    trace_id: yamlStr(v2 ? meta.request_id : meta.trace_id),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: yamlStr(v2 ? meta.experiment_id : location?.mlflow_experiment?.experiment_id) } },
    request_time: v2 ? timestampJson(yamlNum(meta.timestamp_ms)) : yamlStr(meta.request_time),
    state: traceState(yamlStr(v2 ? meta.status : meta.state)),
    trace_metadata: fromFolder('request_metadata'),
    tags: fromFolder('tags'),
    assessments: v2 ? [] : readAssessments(dir),
  };
  const duration = v2 ? meta.execution_time_ms : meta.execution_duration_ms;
  if (duration !== null && duration !== undefined) info.execution_duration = durationJson(yamlNum(duration));
  for (const k of ['client_request_id', 'request_preview', 'response_preview'] as const) {
    if (meta[k] !== null && meta[k] !== undefined) info[k] = String(meta[k]);
  }
  return info;
}

function readAssessments(traceDir: string): Assessment[] {
  const dir = path.join(traceDir, 'assessments');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.endsWith('.yaml')).sort();
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  const out: Assessment[] = [];
  for (const n of names) {
    const a = parseMetaYaml(fs.readFileSync(path.join(dir, n), 'utf8')) as unknown as Assessment;
    // Issue references (MLflow 3.17) have no place in the Assessment shape Runlens keeps.
    if (a.feedback === undefined && a.expectation === undefined) continue;
    out.push({ ...a, valid: a.valid ?? true });
  }
  return out.sort((x, y) => (x.create_time < y.create_time ? -1 : x.create_time > y.create_time ? 1 : 0));
}
