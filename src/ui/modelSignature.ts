/**
 * MLmodel files: flavors, signature and input example, read as MLflow writes them
 * (`mlflow/models/signature.py`, `mlflow/types/schema.py`): the signature's inputs and outputs are
 * JSON strings of column specs (`{"type": "double", "name": "x", "required": true}`, with nested
 * `array`/`object`/`map` types) or tensor specs (`{"type": "tensor", "tensor-spec": {"dtype":
 * "float64", "shape": [-1, 4]}}`); params are `{"name", "type", "default", "shape"}`.
 */
import { parse as parseYaml } from 'yaml';
import type { ModelSignatureView, SignatureField } from './modelProtocol';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A column type as MLflow prints it: `array<double>`, `object<a: long, b: string>`, `map<string, double>`. */
export function columnType(spec: unknown): string {
  if (!isObject(spec)) return 'any';
  const t = typeof spec.type === 'string' ? spec.type : 'any';
  if (t === 'array') return `array<${columnType(spec.items)}>`;
  if (t === 'map') return `map<string, ${columnType(spec.values)}>`;
  if (t === 'object' && isObject(spec.properties)) {
    return `object<${Object.entries(spec.properties)
      .map(([k, v]) => `${k}: ${columnType(v)}`)
      .join(', ')}>`;
  }
  return t;
}

function field(spec: unknown): SignatureField {
  const s = isObject(spec) ? spec : {};
  const out: SignatureField = { type: 'any', tensor: false, required: s.required !== false };
  if (typeof s.name === 'string') out.name = s.name;
  const tensor = s['tensor-spec'];
  if (s.type === 'tensor' && isObject(tensor)) {
    out.tensor = true;
    out.type = typeof tensor.dtype === 'string' ? tensor.dtype : 'any';
    if (Array.isArray(tensor.shape)) out.shape = tensor.shape.map(Number);
    return out;
  }
  out.type = columnType(s);
  if (Array.isArray(s.shape)) out.shape = s.shape.map(Number);
  if (s.default !== undefined && s.default !== null) out.default = typeof s.default === 'string' ? s.default : JSON.stringify(s.default);
  return out;
}

/** One schema (a JSON string in the MLmodel, or already parsed); undefined when absent or unreadable. */
export function parseSchema(raw: unknown): SignatureField[] | undefined {
  let v = raw;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      return undefined;
    }
  }
  return Array.isArray(v) ? v.map(field) : undefined;
}

export function parseSignature(sig: unknown): ModelSignatureView | undefined {
  if (!isObject(sig)) return undefined;
  const view: ModelSignatureView = {};
  const inputs = parseSchema(sig.inputs);
  const outputs = parseSchema(sig.outputs);
  const params = parseSchema(sig.params);
  if (inputs) view.inputs = inputs;
  if (outputs) view.outputs = outputs;
  if (params) view.params = params;
  return inputs || outputs || params ? view : undefined;
}

export interface MlmodelInfo {
  flavors: string[];
  signature?: ModelSignatureView;
  /** The input example's file name beside the MLmodel and its type (`dataframe`, `ndarray`, `json_object`). */
  inputExample?: { path: string; type?: string };
  mlflowVersion?: string;
  created?: string;
  sizeBytes?: number;
  modelId?: string;
  runId?: string;
}

/** The parts of an MLmodel file the views show; throws when the text is not a YAML mapping. */
export function readMlmodel(text: string): MlmodelInfo {
  const doc: unknown = parseYaml(text);
  if (!isObject(doc)) throw new Error('MLmodel is not a YAML mapping.');
  const info: MlmodelInfo = { flavors: isObject(doc.flavors) ? Object.keys(doc.flavors) : [] };
  const signature = parseSignature(doc.signature);
  if (signature) info.signature = signature;
  const example = doc.saved_input_example_info;
  if (isObject(example) && typeof example.artifact_path === 'string') {
    info.inputExample = { path: example.artifact_path, ...(typeof example.type === 'string' ? { type: example.type } : {}) };
  }
  if (typeof doc.mlflow_version === 'string') info.mlflowVersion = doc.mlflow_version;
  if (typeof doc.utc_time_created === 'string') info.created = doc.utc_time_created;
  if (typeof doc.model_size_bytes === 'number') info.sizeBytes = doc.model_size_bytes;
  if (typeof doc.model_id === 'string') info.modelId = doc.model_id;
  if (typeof doc.run_id === 'string') info.runId = doc.run_id;
  return info;
}
