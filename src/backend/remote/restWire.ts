/**
 * MLflow's JSON (protobuf JSON as `message_to_json` writes it) → the source's entity shapes.
 *
 * Protobuf JSON leaves out empty lists and default values, may quote int64s, and writes NaN and
 * infinities as the strings "NaN", "Infinity", "-Infinity"; every server version differs a little
 * in what it omits. So each field is read defensively and given the value its absence means.
 */
import type { Experiment, Metric, Run, RunStatus } from '../../domain/types';
import type { LoggedModel, LoggedModelStatus, ModelMetric, ModelVersion, RegisteredModel } from '../../domain/modelTypes';
import type { Assessment, TraceInfo, TraceState } from '../../domain/traceTypes';
import { int, list, obj, optStr, str, tagList as tags } from '../../domain/jsonRead';

export { int };

function optInt(v: unknown): number | null {
  return v === undefined || v === null || v === '' ? null : int(v);
}

/** A double, including protobuf JSON's spellings of NaN and the infinities. */
export function double(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return typeof v === 'string' ? Number(v) : NaN;
}

export function experiment(v: unknown): Experiment {
  const e = obj(v);
  return {
    experiment_id: str(e.experiment_id),
    name: str(e.name),
    artifact_location: str(e.artifact_location),
    lifecycle_stage: e.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    creation_time: int(e.creation_time),
    last_update_time: int(e.last_update_time, int(e.creation_time)),
    tags: tags(e.tags),
  };
}

export function metric(v: unknown): Metric {
  const m = obj(v);
  return { key: str(m.key), value: double(m.value), timestamp: int(m.timestamp), step: int(m.step) };
}

export function run(v: unknown): Run {
  const r = obj(v);
  const info = obj(r.info);
  const data = obj(r.data);
  const inputs = obj(r.inputs);
  const outputs = obj(r.outputs);
  const id = str(info.run_id, str(info.run_uuid));
  return {
    info: {
      run_id: id,
      run_uuid: id,
      run_name: str(info.run_name),
      experiment_id: str(info.experiment_id),
      user_id: str(info.user_id),
      status: (optStr(info.status) ?? 'RUNNING') as RunStatus,
      start_time: optInt(info.start_time),
      end_time: optInt(info.end_time),
      artifact_uri: str(info.artifact_uri),
      lifecycle_stage: info.lifecycle_stage === 'deleted' ? 'deleted' : 'active',
    },
    data: { metrics: list(data.metrics).map(metric), params: tags(data.params), tags: tags(data.tags) },
    inputs: {
      dataset_inputs: list(inputs.dataset_inputs).map((d) => {
        const ds = obj(obj(d).dataset);
        return {
          tags: tags(obj(d).tags),
          dataset: {
            name: str(ds.name),
            digest: str(ds.digest),
            source_type: str(ds.source_type),
            source: str(ds.source),
            ...(typeof ds.schema === 'string' ? { schema: ds.schema } : {}),
            ...(typeof ds.profile === 'string' ? { profile: ds.profile } : {}),
          },
        };
      }),
      model_inputs: list(inputs.model_inputs).map((m) => ({ model_id: str(obj(m).model_id) })),
    },
    outputs: { model_outputs: list(outputs.model_outputs).map((m) => ({ model_id: str(obj(m).model_id), step: int(obj(m).step) })) },
  };
}

export function registeredModel(v: unknown): Omit<RegisteredModel, 'latest_versions'> {
  const m = obj(v);
  return {
    name: str(m.name),
    creation_timestamp: int(m.creation_timestamp),
    last_updated_timestamp: int(m.last_updated_timestamp, int(m.creation_timestamp)),
    ...(optStr(m.user_id) ? { user_id: str(m.user_id) } : {}),
    ...(typeof m.description === 'string' ? { description: m.description } : {}),
    tags: tags(m.tags),
    aliases: list(m.aliases).map((a) => ({ alias: str(obj(a).alias), version: str(obj(a).version) })),
  };
}

export function modelVersion(v: unknown): ModelVersion {
  const m = obj(v);
  const opt = (k: string): Record<string, string> => (optStr(m[k]) ? { [k]: str(m[k]) } : {});
  return {
    name: str(m.name),
    version: str(m.version),
    creation_timestamp: int(m.creation_timestamp),
    last_updated_timestamp: int(m.last_updated_timestamp, int(m.creation_timestamp)),
    current_stage: str(m.current_stage, 'None'),
    source: str(m.source),
    status: 'READY',
    tags: tags(m.tags),
    aliases: list(m.aliases).map((a) => str(a)),
    ...opt('user_id'),
    ...(typeof m.description === 'string' ? { description: m.description } : {}),
    ...opt('run_id'),
    ...opt('run_link'),
    ...opt('model_id'),
  };
}

export function loggedModel(v: unknown): LoggedModel {
  const m = obj(v);
  const info = obj(m.info);
  const data = obj(m.data);
  const id = str(info.model_id);
  return {
    info: {
      model_id: id,
      experiment_id: str(info.experiment_id),
      name: str(info.name),
      creation_timestamp_ms: int(info.creation_timestamp_ms),
      last_updated_timestamp_ms: int(info.last_updated_timestamp_ms, int(info.creation_timestamp_ms)),
      artifact_uri: str(info.artifact_uri),
      status: (optStr(info.status) ?? 'LOGGED_MODEL_READY') as LoggedModelStatus,
      ...(optStr(info.model_type) ? { model_type: str(info.model_type) } : {}),
      ...(optStr(info.source_run_id) ? { source_run_id: str(info.source_run_id) } : {}),
      ...(optStr(info.status_message) ? { status_message: str(info.status_message) } : {}),
      tags: tags(info.tags),
      registrations: list(info.registrations).map((r) => ({ name: str(obj(r).name), version: str(obj(r).version) })),
    },
    data: {
      params: tags(data.params),
      metrics: list(data.metrics).map((x): ModelMetric => {
        const mm = obj(x);
        return {
          key: str(mm.key),
          value: double(mm.value),
          timestamp: int(mm.timestamp),
          step: int(mm.step),
          model_id: str(mm.model_id, id),
          ...(optStr(mm.run_id) ? { run_id: str(mm.run_id) } : {}),
          ...(optStr(mm.dataset_name) ? { dataset_name: str(mm.dataset_name) } : {}),
          ...(optStr(mm.dataset_digest) ? { dataset_digest: str(mm.dataset_digest) } : {}),
        };
      }),
    },
  };
}

const TRACE_STATES: readonly string[] = ['STATE_UNSPECIFIED', 'OK', 'ERROR', 'IN_PROGRESS'];

/** A TraceInfoV3 from the 3.0 trace endpoints. */
export function traceInfoV3(v: unknown): TraceInfo {
  const t = obj(v);
  const loc = obj(obj(t.trace_location).mlflow_experiment);
  return {
    trace_id: str(t.trace_id),
    ...(optStr(t.client_request_id) ? { client_request_id: str(t.client_request_id) } : {}),
    trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: str(loc.experiment_id) } },
    ...(typeof t.request_preview === 'string' ? { request_preview: t.request_preview } : {}),
    ...(typeof t.response_preview === 'string' ? { response_preview: t.response_preview } : {}),
    request_time: str(t.request_time, new Date(0).toISOString()),
    ...(optStr(t.execution_duration) ? { execution_duration: str(t.execution_duration) } : {}),
    state: (TRACE_STATES.includes(str(t.state)) ? str(t.state) : 'STATE_UNSPECIFIED') as TraceState,
    trace_metadata: stringMap(t.trace_metadata),
    tags: stringMap(t.tags),
    assessments: list(t.assessments).map((a) => assessment(a, str(t.trace_id))),
  };
}

function stringMap(v: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(obj(v)).map(([k, x]) => [k, str(x)]));
}

/** An Assessment as the 3.x server writes it; an absent `valid` means not overridden (MLflow reads None as valid). */
export function assessment(v: unknown, traceId: string): Assessment {
  const a = obj(v);
  const src = obj(a.source);
  const out: Assessment = {
    ...(a as unknown as Assessment),
    assessment_id: str(a.assessment_id),
    assessment_name: str(a.assessment_name),
    trace_id: str(a.trace_id, traceId),
    source: { source_type: (optStr(src.source_type) ?? 'SOURCE_TYPE_UNSPECIFIED') as Assessment['source']['source_type'], ...(optStr(src.source_id) ? { source_id: str(src.source_id) } : {}) },
    create_time: str(a.create_time),
    last_update_time: str(a.last_update_time, str(a.create_time)),
    valid: a.valid !== false,
  };
  return out;
}
