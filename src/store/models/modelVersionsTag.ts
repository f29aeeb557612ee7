/**
 * The `mlflow.modelVersions` tag MLflow's server sets on a logged model when a model version is
 * created from it (tracking store `set_model_versions_tags`): a JSON list of
 * `{"name": <registered model>, "version": <int>}`, written by Python's `json.dumps`, growing by
 * one entry per new version.
 */
export const MODEL_VERSIONS_TAG = 'mlflow.modelVersions';

/** `json.dumps(value)` with Python's defaults: `", "` and `": "` separators, ASCII only. */
function pythonDumps(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(pythonDumps).join(', ')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value).map(([k, v]) => `${pythonDumps(k)}: ${pythonDumps(v)}`).join(', ')}}`;
  }
  if (value === undefined || value === null) return 'null';
  return JSON.stringify(value).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The tag's value after adding `name`/`version` to `existing` (the current value, if any). */
export function withModelVersion(existing: string | undefined, name: string, version: number): string {
  let list: unknown[] = [];
  if (existing !== undefined) {
    try {
      const parsed: unknown = JSON.parse(existing);
      if (Array.isArray(parsed)) list = parsed;
    } catch {
      // A value a client set by hand that is not JSON: MLflow would fail here; start afresh.
    }
  }
  const present = list.some((e) => e !== null && typeof e === 'object' && (e as Record<string, unknown>).name === name && (e as Record<string, unknown>).version === version);
  return pythonDumps(present ? list : [...list, { name, version }]);
}
