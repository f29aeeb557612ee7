/**
 * Publishes local runs (with their logged models and traces) to an MLflow server: the importer's
 * mirror image, reading any `MlflowSource` and writing through the server's public REST API, so
 * the team sees the runs in MLflow's own UI.
 *
 * The server picks new ids for runs and logged models, so each carries its origin (store id and
 * local id) as tags; a second publish finds them by those tags and updates instead of
 * duplicating (see publishRun.ts). Traces keep their ids (the client chooses them), which makes
 * "already there" a lookup. Experiments are matched by name; one that exists remotely but was
 * not created by this store is used, and said so in the conflicts.
 */
import type { MlflowSource, SourceRun } from '../../api/source';
import type { Experiment } from '../../../domain/types';
import { TAG_PARENT_RUN_ID } from '../../../domain/types';
import { publishLoggedModels, publishTraces } from './publishExtras';
import { publishRun, type RunContext } from './publishRun';
import { ORIGIN_RUN, ORIGIN_STORE, type PublishProgress, type PublishSummary, type PublishTally } from './publishTypes';
import type { RemoteRunRef, RemoteWriter } from './remoteWriter';

export interface PublishOptions {
  /** This store's id (storeId.ts), written on everything published. */
  storeId: string;
  /** Experiment names to publish (all active experiments when neither this nor `runs` is given). */
  experiments?: string[];
  /** Run ids to publish; their parent runs come along so the hierarchy holds. */
  runs?: string[];
  /** Runs sent at once (each with its own few log-batch calls in flight). */
  concurrency?: number;
  onProgress?(p: PublishProgress): void;
  /** Checked between runs: a cancelled publish stops there, and the next one resumes. */
  cancelled?(): boolean;
}

interface Selected {
  experiment: Experiment;
  runs: SourceRun[];
}

export class PublishCancelled extends Error {
  constructor() {
    super('publish cancelled; publish again to resume');
  }
}

export async function publish(source: MlflowSource, writer: RemoteWriter, opts: PublishOptions): Promise<PublishSummary> {
  const summary: PublishSummary = {
    runs: { created: 0, updated: 0, unchanged: 0 },
    metricPoints: 0,
    artifacts: 0,
    bytes: 0,
    models: 0,
    traces: 0,
    experiments: { created: 0, existing: 0 },
    conflicts: [],
  };
  const selected = await select(source, opts);
  const total = selected.reduce((n, s) => n + s.runs.length, 0);
  let done = 0;
  const progress = (): void =>
    opts.onProgress?.({ runsDone: done, runsTotal: total, metricPoints: summary.metricPoints, artifacts: summary.artifacts, bytes: summary.bytes, traces: summary.traces });
  const remoteIds = new Map<string, string>();
  const conflict = (why: string): void => void summary.conflicts.push(why);
  for (const { experiment, runs } of selected) {
    const remoteExp = await remoteExperiment(writer, experiment, opts.storeId, summary);
    if (remoteExp === undefined) continue;
    const existing = new Map<string, RemoteRunRef>();
    for await (const ref of writer.searchRuns(remoteExp, `tags.\`${ORIGIN_STORE}\` = '${opts.storeId}'`)) {
      const origin = ref.tags.get(ORIGIN_RUN);
      if (origin !== undefined && !existing.has(origin)) existing.set(origin, ref);
    }
    const tally: PublishTally = { experimentId: remoteExp, created: 0, updated: 0, unchanged: 0, metricPoints: 0, artifacts: 0 };
    const ctx: RunContext = { writer, source, storeId: opts.storeId, tally, remoteIds, conflict, onBytes: (n) => void (summary.bytes += n) };
    const fold = (): void => {
      summary.metricPoints += tally.metricPoints;
      summary.artifacts += tally.artifacts;
      tally.metricPoints = 0;
      tally.artifacts = 0;
    };
    // Parents before children, so a child's parent tag can name the parent's remote id.
    for (const level of byDepth(runs)) {
      const queue = [...level];
      const worker = async (): Promise<void> => {
        for (let run = queue.shift(); run; run = queue.shift()) {
          if (opts.cancelled?.()) throw new PublishCancelled();
          await publishRun(ctx, run, existing.get(run.info.run_id));
          done++;
          fold();
          progress();
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
    }
    summary.runs.created += tally.created;
    summary.runs.updated += tally.updated;
    summary.runs.unchanged += tally.unchanged;
    const models = await publishLoggedModels(ctx, experiment.experiment_id, runs);
    summary.models += models;
    fold();
    summary.traces += await publishTraces(ctx, experiment.experiment_id, opts.runs?.length ? new Set(runs.map((r) => r.info.run_id)) : undefined);
    fold();
    progress();
  }
  return summary;
}

async function select(source: MlflowSource, opts: PublishOptions): Promise<Selected[]> {
  const names = opts.experiments?.length ? new Set(opts.experiments) : undefined;
  const runIds = opts.runs?.length ? new Set(opts.runs) : undefined;
  const out: Selected[] = [];
  const foundNames = new Set<string>();
  const foundRuns = new Set<string>();
  for await (const exp of source.experiments()) {
    if (exp.lifecycle_stage !== 'active') continue;
    const named = names?.has(exp.name) ?? false;
    if (names && !named && !runIds) continue;
    const all: SourceRun[] = [];
    for await (const run of source.runs(exp.experiment_id)) if (run.info.lifecycle_stage === 'active') all.push(run);
    let runs = all;
    if (runIds && !named) {
      const byId = new Map(all.map((r) => [r.info.run_id, r]));
      const keep = new Set<string>();
      for (const id of runIds) {
        // The run and its ancestors: a child published without its parent would lose its place.
        for (let r = byId.get(id); r && !keep.has(r.info.run_id); r = byId.get(parentOf(r) ?? '')) keep.add(r.info.run_id);
      }
      runs = all.filter((r) => keep.has(r.info.run_id));
      if (!runs.length) continue;
    }
    if (named) foundNames.add(exp.name);
    for (const r of runs) foundRuns.add(r.info.run_id);
    out.push({ experiment: exp, runs });
  }
  const missing = [...(names ?? [])].filter((n) => !foundNames.has(n)).map((n) => `experiment '${n}'`);
  missing.push(...[...(runIds ?? [])].filter((id) => !foundRuns.has(id)).map((id) => `run ${id}`));
  if (missing.length) throw new Error(`not in the local store (or deleted): ${missing.join(', ')}`);
  return out;
}

function parentOf(run: SourceRun): string | undefined {
  return run.data.tags.find((t) => t.key === TAG_PARENT_RUN_ID)?.value;
}

/** Runs grouped by nesting depth within the selection, roots first. */
function byDepth(runs: SourceRun[]): SourceRun[][] {
  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  const depth = new Map<string, number>();
  const depthOf = (r: SourceRun, seen: Set<string>): number => {
    const known = depth.get(r.info.run_id);
    if (known !== undefined) return known;
    const p = parentOf(r);
    const parent = p !== undefined && !seen.has(p) ? byId.get(p) : undefined;
    seen.add(r.info.run_id);
    const d = parent ? depthOf(parent, seen) + 1 : 0;
    depth.set(r.info.run_id, d);
    return d;
  };
  const levels: SourceRun[][] = [];
  for (const r of runs) (levels[depthOf(r, new Set())] ??= []).push(r);
  return levels.filter((l) => l !== undefined);
}

/** The remote experiment to publish into: by name, created (with its tags) when missing. */
async function remoteExperiment(writer: RemoteWriter, exp: Experiment, storeId: string, summary: PublishSummary): Promise<string | undefined> {
  const there = await writer.experimentByName(exp.name);
  if (there?.lifecycle_stage === 'deleted') {
    summary.conflicts.push(`experiment '${exp.name}' is deleted on the remote (id ${there.experiment_id}): restore or rename it there; its runs were not published`);
    return undefined;
  }
  if (there) {
    summary.experiments.existing++;
    const ours = there.tags.some((t) => t.key === ORIGIN_STORE && t.value === storeId);
    if (!ours && exp.name !== 'Default') summary.conflicts.push(`experiment '${exp.name}' already exists on the remote (id ${there.experiment_id}), not created by this store: runs were published into it`);
    return there.experiment_id;
  }
  const tags = exp.tags.filter((t) => !t.key.startsWith('mlflow.')).concat([{ key: ORIGIN_STORE, value: storeId }]);
  const id = await writer.createExperiment(exp.name, tags);
  summary.experiments.created++;
  return id;
}
