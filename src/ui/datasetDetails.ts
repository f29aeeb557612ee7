/**
 * What a run's dataset input says beyond its digest, for the run page: where it came from
 * (source type and URI), its schema (column specs, or tensor specs for numpy), and its profile
 * (row and element counts, shapes). The fields are JSON strings written by the client's
 * `Dataset.to_dict()` (`mlflow/data/pandas_dataset.py`, `numpy_dataset.py`); anything that does
 * not parse is shown raw rather than dropped.
 */
import type { WireDatasetInput } from '../client/wireTypes';

export interface SchemaColumn {
  /** Column name; for tensors, "features"/"targets" (with an index when there are several). */
  name: string;
  /** `double`, `string`…; for a tensor `float64 [-1, 3]` (dtype and shape). */
  type: string;
  required?: boolean;
}

export interface DatasetView {
  name: string;
  digest: string;
  context?: string;
  sourceType?: string;
  /** The URI or URL the source names, when it names one. */
  sourceUri?: string;
  /** Other source fields (a code source's tags: the script that made it). */
  sourceDetails: [string, string][];
  schema?: SchemaColumn[];
  /** The schema as written, when it is not one of the known shapes. */
  schemaRaw?: string;
  profile: [string, string][];
}

function parse(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function colSpecs(list: unknown): SchemaColumn[] | undefined {
  if (!Array.isArray(list)) return undefined;
  return list.filter(isRecord).map((c, i) => ({ name: typeof c.name === 'string' ? c.name : `#${i}`, type: show(c.type ?? '?'), ...(typeof c.required === 'boolean' ? { required: c.required } : {}) }));
}

function tensorSpecs(part: string, specs: unknown): SchemaColumn[] {
  const list = typeof specs === 'string' ? parse(specs) : specs;
  if (!Array.isArray(list)) return [];
  return list.filter(isRecord).map((t, i) => {
    const spec = isRecord(t['tensor-spec']) ? t['tensor-spec'] : {};
    const shape = Array.isArray(spec.shape) ? ` [${spec.shape.join(', ')}]` : '';
    const name = typeof t.name === 'string' ? t.name : list.length > 1 ? `${part}[${i}]` : part;
    return { name, type: `${show(spec.dtype ?? t.type ?? '?')}${shape}` };
  });
}

function schemaOf(text: string | undefined): { schema?: SchemaColumn[]; schemaRaw?: string } {
  if (!text) return {};
  const s = parse(text);
  if (isRecord(s)) {
    const cols = colSpecs(s.mlflow_colspec);
    if (cols) return { schema: cols };
    if (isRecord(s.mlflow_tensorspec)) {
      const t = s.mlflow_tensorspec;
      return { schema: [...tensorSpecs('features', t.features), ...tensorSpecs('targets', t.targets)] };
    }
  }
  return { schemaRaw: text };
}

/** The run page's view of one dataset input. */
export function datasetView(input: WireDatasetInput): DatasetView {
  const d = input.dataset;
  const context = input.tags?.find((t) => t.key === 'mlflow.data.context')?.value;
  const source = parse(d.source);
  let sourceUri: string | undefined;
  const sourceDetails: [string, string][] = [];
  if (isRecord(source)) {
    for (const [k, v] of Object.entries(source)) {
      if ((k === 'uri' || k === 'url' || k === 'path') && typeof v === 'string' && !sourceUri) sourceUri = v;
      else if (isRecord(v)) for (const [tk, tv] of Object.entries(v)) sourceDetails.push([tk, show(tv)]);
      else sourceDetails.push([k, show(v)]);
    }
  } else if (d.source) {
    sourceUri = d.source;
  }
  const profile = parse(d.profile);
  return {
    name: d.name,
    digest: d.digest,
    ...(context ? { context } : {}),
    ...(d.source_type ? { sourceType: d.source_type } : {}),
    ...(sourceUri ? { sourceUri } : {}),
    sourceDetails,
    ...schemaOf(d.schema),
    profile: isRecord(profile) ? Object.entries(profile).map(([k, v]) => [k, Array.isArray(v) ? `[${v.join(', ')}]` : typeof v === 'number' ? v.toLocaleString('en-US') : show(v)]) : d.profile ? [['profile', d.profile]] : [],
  };
}
