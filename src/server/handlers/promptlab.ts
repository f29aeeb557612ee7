/**
 * `POST /ajax-api/2.0/mlflow/runs/create-promptlab-run` (the UI's prompt engineering view): one
 * finished run holding a prompt, its parameters and the model's answer, as MLflow records it —
 * params (model parameters, `model_route`, `prompt_template`), the prompt-engineering source
 * tag, an `eval_results_table.json` artifact, and a `model/` folder with an MLmodel for MLflow's
 * promptlab pyfunc loader (no Python environment files: this server has no interpreter to
 * describe). If writing any of it fails, the run is left FAILED, as in MLflow.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { proxyPath } from '../../domain/artifactUri';
import { MlflowError, invalidParameter } from '../../domain/errors';
import type { TrackingStore } from '../../backend/api/tracking';
import type { Run, Tag } from '../../domain/types';
import { COMPAT_MLFLOW_VERSION } from './system';

/** Python's `str()` of a JSON value, which MLflow applies to every parameter value. */
function pyStr(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return String(v);
  return pyJson(v);
}

/** Python's `json.dumps` with default separators and `ensure_ascii`. */
export function pyJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pyJson).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${pyJson(k)}: ${pyJson(x)}`).join(', ')}}`;
  const text = JSON.stringify(v ?? null);
  return text.replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A YAML scalar PyYAML would read back as the same string. */
function yamlString(s: string): string {
  const plain =
    s !== '' &&
    /^[A-Za-z0-9_./(][^\n\r\t]*$/.test(s) &&
    !/[:#] |[:]$| $|^[-?:,[\]{}#&*!|>'"%@`]/.test(s) &&
    !/^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?(?:\d[\d_]*)?\.?\d[\d_]*(?:e[-+]?\d+)?|\.inf|\.nan)$/i.test(s);
  if (plain) return s;
  return /[\n\r\t\u0000-\u001f]/.test(s) ? JSON.stringify(s) : `'${s.replace(/'/g, "''")}'`;
}

type Yaml = string | boolean | null | { [key: string]: Yaml };

/** Block-style YAML with sorted keys, as `yaml.safe_dump` writes a nested mapping. */
function yamlDump(value: { [key: string]: Yaml }, indent = ''): string {
  return Object.keys(value)
    .sort()
    .map((key) => {
      const v = value[key]!;
      const k = yamlString(key);
      if (v === null) return `${indent}${k}: null\n`;
      if (typeof v === 'boolean') return `${indent}${k}: ${v}\n`;
      if (typeof v === 'string') return `${indent}${k}: ${yamlString(v)}\n`;
      return Object.keys(v).length === 0 ? `${indent}${k}: {}\n` : `${indent}${k}:\n${yamlDump(v, `${indent}  `)}`;
    })
    .join('');
}

function required(source: Record<string, unknown>, name: string): unknown {
  const v = source[name];
  // MLflow's `if not arg`: absent, null, '', 0, false, [] and {} all count as missing.
  const empty = v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  if (empty) throw invalidParameter(`CreatePromptlabRun request must specify ${name}.`);
  return v;
}

function readParams(v: unknown, name: string): Tag[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalidParameter(`CreatePromptlabRun request field '${name}' must be a list of {key, value} objects.`);
  return v.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    if (typeof o.key !== 'string' || o.key === '') throw invalidParameter(`CreatePromptlabRun request field '${name}[${i}].key' must be a non-empty string.`);
    return { key: o.key, value: pyStr(o.value) };
  });
}

function readTagList(v: unknown): Tag[] {
  if (v === undefined || v === null) return [];
  return readParams(v, 'tags');
}

/** `2026-12-01 21:03:09.678554`, MLflow's `utc_time_created` (microseconds, UTC). */
function utcTimeCreated(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000`;
}

export async function createPromptlabRun(store: TrackingStore, source: Record<string, unknown>): Promise<Run> {
  const experimentId = pyStr(required(source, 'experiment_id'));
  const runName = typeof source.run_name === 'string' ? source.run_name : undefined;
  const tags = readTagList(source.tags);
  const template = pyStr(required(source, 'prompt_template'));
  const promptParams = readParams(required(source, 'prompt_parameters'), 'prompt_parameters');
  const route = pyStr(required(source, 'model_route'));
  const modelParams = readParams(source.model_parameters, 'model_parameters');
  const input = pyStr(required(source, 'model_input'));
  const output = source.model_output === undefined || source.model_output === null ? null : pyStr(source.model_output);
  const outputParams = readParams(source.model_output_parameters, 'model_output_parameters');
  required(source, 'mlflow_version');
  const userId = source.user_id === undefined ? 'unknown' : pyStr(source.user_id);
  const startTime = source.start_time === undefined ? Date.now() : Number(source.start_time);
  if (!Number.isSafeInteger(startTime)) throw invalidParameter(`Invalid value ${pyJson(source.start_time)} for parameter 'start_time': expected an integer.`);

  const run = await store.createRun({ experimentId, userId, runName, startTime, tags });
  const runId = run.info.run_id;
  let ok = true;
  try {
    await store.logBatch(runId, {
      params: [...modelParams, { key: 'model_route', value: route }, { key: 'prompt_template', value: template }],
      tags: [
        { key: 'mlflow.loggedArtifacts', value: pyJson([{ path: 'eval_results_table.json', type: 'table' }]) },
        { key: 'mlflow.runSourceType', value: 'PROMPT_ENGINEERING' },
      ],
    });
    const created = utcTimeCreated(new Date());
    const modelUuid = randomUUID().replace(/-/g, '');
    await store.setTag(runId, {
      key: 'mlflow.log-model.history',
      value: pyJson([{ run_id: runId, artifact_path: 'model', utc_time_created: created, model_uuid: modelUuid, flavors: {} }]),
    });
    const root = proxyPath(run.info.artifact_uri);
    if (root === undefined) throw new MlflowError('NOT_IMPLEMENTED', `Writing artifacts to '${run.info.artifact_uri}' is not supported by this server.`);
    const files = promptlabFiles({ runId, created, modelUuid, template, promptParams, modelParams, route, input, output, outputParams });
    for (const [rel, text] of Object.entries(files)) await store.artifacts.write(`${root}/${rel}`, Readable.from([Buffer.from(text, 'utf8')]));
  } catch {
    ok = false;
  }
  await store.updateRun(runId, { status: ok ? 'FINISHED' : 'FAILED', endTime: Date.now(), runName });
  return store.getRun(runId);
}

interface PromptlabContent {
  runId: string;
  created: string;
  modelUuid: string;
  template: string;
  promptParams: Tag[];
  modelParams: Tag[];
  route: string;
  input: string;
  output: string | null;
  outputParams: Tag[];
}

/** The files MLflow writes for a prompt-lab run, relative to the run's artifact root. */
function promptlabFiles(c: PromptlabContent): Record<string, string> {
  const asMap = (tags: Tag[]): { [key: string]: string } => Object.fromEntries(tags.map((t) => [t.key, t.value]));
  const column = (name: string): Record<string, unknown> => ({ type: 'string', name, required: true });
  const mlmodel = yamlDump({
    artifact_path: 'model',
    flavors: {
      python_function: { loader_module: 'mlflow.prompt.promptlab_model', parameters_path: 'parameters.yaml' },
    },
    is_signature_from_type_hint: false,
    mlflow_version: COMPAT_MLFLOW_VERSION,
    model_id: null,
    model_uuid: c.modelUuid,
    prompts: null,
    run_id: c.runId,
    saved_input_example_info: { artifact_path: 'input_example.json', serving_input_path: 'serving_input_example.json', type: 'json_object' },
    signature: { inputs: pyJson(c.promptParams.map((p) => column(p.key))), outputs: pyJson([column('output')]), params: null },
    type_hint_from_example: false,
    utc_time_created: c.created,
  });
  const example = { inputs: c.promptParams.map((p) => p.value) };
  const requirement = `mlflow[gateway]==${COMPAT_MLFLOW_VERSION}`;
  return {
    'model/MLmodel': mlmodel,
    'model/parameters.yaml': yamlDump({ prompt_template: c.template, prompt_parameters: asMap(c.promptParams), model_parameters: asMap(c.modelParams), model_route: c.route }),
    'model/input_example.json': pyJson(example),
    'model/serving_input_example.json': JSON.stringify({ inputs: example }, null, 2),
    'model/requirements.txt': requirement,
    'eval_results_table.json': pyJson({
      columns: [...c.promptParams.map((p) => p.key), 'prompt', 'output', ...c.outputParams.map((p) => p.key)],
      data: [[...c.promptParams.map((p) => p.value), c.input, c.output, ...c.outputParams.map((p) => p.value)]],
    }),
  };
}
