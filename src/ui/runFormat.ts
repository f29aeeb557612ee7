/** Plain-text presentation of runs shared by the tree, quick picks and run documents (no vscode import). */
import type { WireMetric, WireRun } from '../client/wireTypes';
import { ATTRIBUTES, COST_TAG, GENOPS_PREFIX, type Attribute } from '../domain/genopsTags';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Duration so far for running runs, total for finished ones. */
export function runDuration(run: WireRun, now = Date.now()): string {
  const start = run.info.start_time;
  if (!start) return '';
  const end = run.info.status === 'RUNNING' ? now : run.info.end_time;
  return end ? formatDuration(end - start) : '';
}

export function runLabel(run: WireRun): string {
  return run.info.run_name || run.info.run_id;
}

export function formatValue(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  return abs !== 0 && (abs < 1e-4 || abs >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
}

export function latestMetric(run: WireRun, key: string): WireMetric | undefined {
  return run.data.metrics?.find((m) => m.key === key);
}

/** One line per value: newlines and tabs escaped so a diff aligns key by key. */
export function oneLine(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\r?\n/g, '\\n').replace(/\t/g, '\\t');
}

export function isoTime(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString() : '-';
}

const byKey = <T extends { key: string }>(a: T, b: T): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export interface RunDocumentInput {
  run: WireRun;
  experimentName: string;
  artifacts: { path: string; file_size?: number }[];
  artifactsTruncated: boolean;
}

/**
 * A run as a stable, sorted, human-readable document: two of them side by side in the diff
 * editor line up key by key, so differences are exactly the changed lines.
 */
export function formatRunDocument({ run, experimentName, artifacts, artifactsTruncated }: RunDocumentInput): string {
  const { info } = run;
  const tags = [...(run.data.tags ?? [])].sort(byKey);
  const userTags = tags.filter((t) => !t.key.startsWith('mlflow.'));
  const systemTags = tags.filter((t) => t.key.startsWith('mlflow.'));
  const lines: string[] = [];
  const section = (title: string, count: number): void => {
    lines.push('', `## ${title} (${count})`);
  };
  lines.push(`# Run ${runLabel(run)}`);
  lines.push(`run_id:      ${info.run_id}`);
  lines.push(`experiment:  ${oneLine(experimentName)} (${info.experiment_id})`);
  lines.push(`status:      ${info.status}${info.lifecycle_stage === 'deleted' ? ' (deleted)' : ''}`);
  lines.push(`start_time:  ${isoTime(info.start_time)}`);
  lines.push(`end_time:    ${isoTime(info.end_time)}`);
  lines.push(`duration:    ${runDuration(run) || '-'}`);
  lines.push(`user:        ${info.user_id || '-'}`);
  lines.push(`parent_run:  ${systemTags.find((t) => t.key === 'mlflow.parentRunId')?.value ?? '-'}`);
  lines.push(`artifact_uri: ${info.artifact_uri ?? '-'}`);

  const params = [...(run.data.params ?? [])].sort(byKey);
  section('Parameters', params.length);
  for (const p of params) lines.push(`${p.key} = ${oneLine(p.value)}`);

  const metrics = [...(run.data.metrics ?? [])].sort(byKey);
  section('Metrics (latest)', metrics.length);
  for (const m of metrics) lines.push(`${m.key} = ${formatValue(m.value)}  (step ${m.step})`);

  section('Tags', userTags.length);
  for (const t of userTags) lines.push(`${t.key} = ${oneLine(t.value)}`);

  const inputs = run.inputs?.dataset_inputs ?? [];
  section('Inputs', inputs.length);
  for (const d of [...inputs].sort((a, b) => (a.dataset.name + a.dataset.digest).localeCompare(b.dataset.name + b.dataset.digest))) {
    const context = d.tags?.find((t) => t.key === 'mlflow.data.context')?.value;
    lines.push(`${d.dataset.name} (digest ${d.dataset.digest}${context ? `, ${context}` : ''}${d.dataset.source_type ? `, ${d.dataset.source_type}` : ''})`);
  }

  const files = [...artifacts].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  section('Artifacts', files.length);
  for (const f of files) lines.push(`${f.path}${f.file_size !== undefined ? `  (${f.file_size} bytes)` : ''}`);
  if (artifactsTruncated) lines.push('… (listing stopped here)');

  section('System tags', systemTags.length);
  for (const t of systemTags) lines.push(`${t.key} = ${oneLine(t.value)}`);
  return `${lines.join('\n')}\n`;
}

/** A governed run's cost (the tag a governed server adds on read) and its `genops.*` attribution; undefined when it has neither. */
export function runGovernance(tags: readonly { key: string; value: string }[]): { costUsd?: number; attribution: [Attribute, string][] } | undefined {
  const byKey = new Map(tags.map((t) => [t.key, t.value]));
  const cost = byKey.get(COST_TAG);
  const attribution = ATTRIBUTES.flatMap((a): [Attribute, string][] => {
    const v = byKey.get(GENOPS_PREFIX + a);
    return v ? [[a, v]] : [];
  });
  const costUsd = cost !== undefined && cost !== '' && Number.isFinite(Number(cost)) ? Number(cost) : undefined;
  if (costUsd === undefined && attribution.length === 0) return undefined;
  return { ...(costUsd !== undefined ? { costUsd } : {}), attribution };
}

/** Whether a tag is one runGovernance shows (a tooltip lists it there, not among the tags). */
export function isGovernanceShownTag(key: string): boolean {
  return key === COST_TAG || ATTRIBUTES.some((a) => key === GENOPS_PREFIX + a);
}

/** Dollars for a glance: cents from a dollar up, up to 4 significant digits below. */
export function formatUsd(v: number): string {
  if (v === 0) return '$0';
  if (Math.abs(v) >= 1) return `$${v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  return `$${Number(v.toPrecision(4)).toString()}`;
}
