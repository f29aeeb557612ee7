/** What a publish reports, and the tags that tie a remote entity to the local one it came from. */

/** The publishing store's id (see storeId.ts): with the run id, what makes a second publish an update. */
export const ORIGIN_STORE = 'runlens.origin.store';
export const ORIGIN_RUN = 'runlens.origin.runId';
export const ORIGIN_MODEL = 'runlens.origin.modelId';
/** A digest of what was sent, set last: a run without it was interrupted mid-publish. */
export const PUBLISH_DIGEST = 'runlens.publish.digest';

export interface PublishSummary {
  runs: { created: number; updated: number; unchanged: number };
  metricPoints: number;
  artifacts: number;
  bytes: number;
  models: number;
  traces: number;
  experiments: { created: number; existing: number };
  /** What could not be published as it is locally, one line each (an experiment name taken, a param changed). */
  conflicts: string[];
}

export interface PublishProgress {
  runsDone: number;
  runsTotal: number;
  metricPoints: number;
  artifacts: number;
  bytes: number;
  traces: number;
}

/** The counters one experiment's runs write into. */
export interface PublishTally {
  experimentId: string;
  created: number;
  updated: number;
  unchanged: number;
  metricPoints: number;
  artifacts: number;
}

/** The contract's summary line. */
export function formatPublishSummary(s: PublishSummary): string {
  const n = s.runs.created + s.runs.updated;
  return `published ${n} runs (${s.runs.created} new, ${s.runs.updated} updated), ${s.metricPoints} metric points, ${s.artifacts} artifacts`;
}

/** The lines after the summary: unchanged runs, models, traces, conflicts. */
export function formatPublishDetails(s: PublishSummary): string[] {
  const lines = [`unchanged ${s.runs.unchanged} runs; ${s.models} logged models, ${s.traces} traces published; ${s.experiments.created} experiments created`];
  for (const c of s.conflicts) lines.push(`conflict: ${c}`);
  return lines;
}
