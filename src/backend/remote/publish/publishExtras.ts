/**
 * What a publish carries besides runs: an experiment's logged models (created on the remote with
 * their params and tags, artifacts uploaded, then finalized, and linked as outputs of the runs
 * that produced them) and its traces (same trace ids; spans uploaded as the trace's
 * `traces.json` artifact as MLflow's client exporter did, or through OTLP to a server that keeps
 * spans in its database, as 3.4+ servers mark their traces; assessments after).
 */
import * as path from 'node:path';
import type { SourceRun } from '../../api/source';
import type { Tag } from '../../../domain/types';
import { TraceKeys } from '../../../domain/traceTypes';
import { localFiles, type RunContext } from './publishRun';
import { ORIGIN_MODEL, ORIGIN_STORE } from './publishTypes';

/** Publishes the experiment's logged models not yet on the remote; answers how many were created. */
export async function publishLoggedModels(ctx: RunContext, experimentId: string, runs: SourceRun[]): Promise<number> {
  const local = [];
  for await (const m of ctx.source.loggedModels(experimentId)) local.push(m);
  if (!local.length) return 0;
  const there = new Set<string>();
  for await (const m of ctx.writer.loggedModels(ctx.tally.experimentId)) {
    const tags = new Map(m.info.tags.map((t) => [t.key, t.value]));
    if (tags.get(ORIGIN_STORE) === ctx.storeId && m.info.status === 'LOGGED_MODEL_READY') there.add(tags.get(ORIGIN_MODEL) ?? '');
  }
  const selected = new Set(runs.map((r) => r.info.run_id));
  let created = 0;
  for (const model of local) {
    const info = model.info;
    if (there.has(info.model_id)) continue;
    // With --run, a model follows the runs that were chosen; a model without a run comes with its experiment.
    if (info.source_run_id && !selected.has(info.source_run_id)) continue;
    const tags: Tag[] = info.tags.concat([
      { key: ORIGIN_STORE, value: ctx.storeId },
      { key: ORIGIN_MODEL, value: info.model_id },
    ]);
    const remote = await ctx.writer.createLoggedModel(ctx.tally.experimentId, model, info.source_run_id ? ctx.remoteIds.get(info.source_run_id) : undefined, tags);
    const files = localFiles(ctx.source.loggedModelArtifacts(model).dir);
    const root = ctx.writer.proxied(remote.info.artifact_uri);
    if (files.length && root === undefined) ctx.conflict(`logged model ${info.model_id}: the remote stores its artifacts at ${remote.info.artifact_uri}, not through its proxy; not uploaded`);
    if (root !== undefined) {
      const dir = ctx.source.loggedModelArtifacts(model).dir!;
      for (const [rel, size] of files) {
        await ctx.writer.upload(root, rel, path.join(dir, ...rel.split('/')), size);
        ctx.tally.artifacts++;
        ctx.onBytes(size);
      }
    }
    await ctx.writer.finalizeLoggedModel(remote.info.model_id, info.status === 'LOGGED_MODEL_PENDING' ? 'LOGGED_MODEL_PENDING' : info.status);
    for (const run of runs) {
      const remoteRun = ctx.remoteIds.get(run.info.run_id);
      const outputs = run.outputs.model_outputs.filter((o) => o.model_id === info.model_id).map((o) => ({ model_id: remote.info.model_id, step: o.step }));
      if (remoteRun && outputs.length) await ctx.writer.logOutputs(remoteRun, outputs);
    }
    created++;
  }
  return created;
}

/** Publishes the experiment's traces not yet on the remote (those of the chosen runs, with --run). */
export async function publishTraces(ctx: RunContext, experimentId: string, onlyRuns: Set<string> | undefined): Promise<number> {
  let n = 0;
  for await (const trace of ctx.source.traces(experimentId)) {
    const info = trace.info;
    const sourceRun = info.trace_metadata[TraceKeys.sourceRun];
    if (onlyRuns && (sourceRun === undefined || !onlyRuns.has(sourceRun))) continue;
    if (await ctx.writer.traceExists(info.trace_id)) continue;
    const metadata = { ...info.trace_metadata };
    if (sourceRun !== undefined) {
      const remoteRun = ctx.remoteIds.get(sourceRun);
      if (remoteRun !== undefined) metadata[TraceKeys.sourceRun] = remoteRun;
      else delete metadata[TraceKeys.sourceRun];
    }
    const tags = { ...info.tags };
    delete tags[TraceKeys.artifactLocation];
    delete tags[TraceKeys.spansLocation];
    const { assessments, ...rest } = info;
    const stored = await ctx.writer.startTrace({
      ...rest,
      trace_location: { type: 'MLFLOW_EXPERIMENT', mlflow_experiment: { experiment_id: ctx.tally.experimentId } },
      trace_metadata: metadata,
      tags,
    });
    const location = stored.tags[TraceKeys.artifactLocation];
    const root = location !== undefined ? ctx.writer.proxied(location) : undefined;
    if (trace.spans.length && stored.tags[TraceKeys.spansLocation] === 'TRACKING_STORE') {
      ctx.onBytes(await ctx.writer.logSpans(ctx.tally.experimentId, trace.spans));
    } else if (trace.spans.length) {
      if (root === undefined) ctx.conflict(`trace ${info.trace_id}: the remote keeps trace data at ${location ?? 'no location'}, not through its proxy; spans not uploaded`);
      else {
        const bytes = Buffer.from(JSON.stringify({ spans: trace.spans }));
        await ctx.writer.uploadBytes(root, 'traces.json', bytes);
        ctx.onBytes(bytes.length);
      }
    }
    for (const a of assessments) await ctx.writer.createAssessment(info.trace_id, a);
    n++;
  }
  return n;
}
