/**
 * Writes any `MlflowSource` as an `mlflow.db` that the newest MLflow opens as it is: its schema
 * at the head alembic revision, every entity in the rows and encodings MLflow's own SQL store
 * writes, artifacts optionally copied beside it. The file appears whole or not at all.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Metric } from '../../../domain/types';
import { fsyncDir, writeSynced } from '../../../store/durableFiles';
import type { MlflowSource } from '../../api/source';
import { copyArtifactTree } from './artifactCopy';
import { ArtifactPlan } from './artifactPlan';
import { createMlflowDb, RowWriter } from './mlflowDb';
import { writeLoggedModel, writeRegisteredModel } from './writeModels';
import { writeTrace } from './writeTraces';
import { DatasetIds, writeExperiment, writeRun } from './writeTracking';

export interface ExportOptions {
  /** The `mlflow.db` to write. */
  file: string;
  /** Absolute directory to copy artifacts into; undefined keeps the source's artifact URIs. */
  artifactsDir?: string | undefined;
  /** Replace an existing file (and existing artifact files). */
  force?: boolean | undefined;
  onProgress?: ((message: string) => void) | undefined;
}

export interface ExportSummary {
  experiments: number;
  runs: number;
  metricPoints: number;
  artifacts: number;
  models: number;
  traces: number;
  /** What could not be exported, and why (e.g. artifacts at a location this machine cannot read). */
  skipped: string[];
}

export class ExportTargetExistsError extends Error {
  constructor(readonly file: string) {
    super(`${file} already exists; pass --force to replace it.`);
  }
}

export function formatSummary(s: ExportSummary): string {
  return `exported ${s.experiments} experiments, ${s.runs} runs, ${s.metricPoints} metric points, ${s.artifacts} artifacts, ${s.models} models, ${s.traces} traces`;
}

async function collect<T>(items: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of items) for (const x of page) out.push(x);
  return out;
}

export async function exportToMlflowDb(source: MlflowSource, opts: ExportOptions): Promise<ExportSummary> {
  const file = path.resolve(opts.file);
  if (!opts.force && fs.existsSync(file)) throw new ExportTargetExistsError(file);
  const plan = new ArtifactPlan(opts.artifactsDir === undefined ? undefined : path.resolve(opts.artifactsDir));
  const summary: ExportSummary = { experiments: 0, runs: 0, metricPoints: 0, artifacts: 0, models: 0, traces: 0, skipped: [] };
  const progress = opts.onProgress ?? ((): void => undefined);
  const copy = async (from: string | undefined, uri: string, to: string | undefined, what: string): Promise<void> => {
    if (to === undefined) return;
    if (from === undefined) {
      summary.skipped.push(`${what}: artifacts at ${uri} are not on this machine`);
      return;
    }
    summary.artifacts += await copyArtifactTree(from, to, opts.force === true);
  };

  const db = await createMlflowDb();
  const w = new RowWriter(db);
  try {
    const datasets = new DatasetIds();
    const modelUris = new Map<string, string>();
    const experiments: { id: string; location: string }[] = [];
    for await (const e of source.experiments()) {
      w.transaction(() => writeExperiment(w, e, plan));
      experiments.push({ id: e.experiment_id, location: plan.experimentLocation(e.experiment_id, e.artifact_location) });
      summary.experiments++;
    }
    for (const e of experiments) {
      progress(`experiment ${e.id}`);
      for await (const run of source.runs(e.id)) {
        const history: Metric[] = await collect(source.metricHistory(run.info.run_id));
        const target = plan.run(e.id, run.info.run_id, run.info.artifact_uri);
        summary.metricPoints += w.transaction(() => writeRun(w, run, target.uri, history, datasets));
        summary.runs++;
        await copy(source.runArtifacts(run).dir, run.info.artifact_uri, target.target, `run ${run.info.run_id}`);
      }
      for await (const m of source.loggedModels(e.id)) {
        const target = plan.loggedModel(e.id, m.info.model_id, m.info.artifact_uri);
        summary.skipped.push(...w.transaction(() => writeLoggedModel(w, m, target.uri)));
        modelUris.set(m.info.model_id, target.uri);
        summary.models++;
        await copy(source.loggedModelArtifacts(m).dir, m.info.artifact_uri, target.target, `logged model ${m.info.model_id}`);
      }
      for await (const t of source.traces(e.id)) {
        w.transaction(() => writeTrace(w, t, e.location));
        summary.traces++;
      }
    }
    // Last: version sources point into runs' and logged models' artifacts, rebased above.
    for await (const rm of source.registeredModels()) {
      w.transaction(() => writeRegisteredModel(w, rm, modelUris, plan));
      summary.models++;
    }
    w.close();
    await writeAtomically(file, db.export(), opts.force === true);
  } finally {
    w.close();
    db.close();
  }
  return summary;
}

/**
 * Temp file in the same directory, fsynced, then moved into place. Without `force` the move is a
 * hard link, which fails if the name appeared meanwhile, so an existing file is never replaced.
 */
async function writeAtomically(file: string, data: Uint8Array, force: boolean): Promise<void> {
  const dir = path.dirname(file);
  await fs.promises.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    await writeSynced(tmp, data);
    if (force) {
      await fs.promises.rename(tmp, file);
    } else {
      try {
        await fs.promises.link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ExportTargetExistsError(file);
        throw err;
      }
      await fs.promises.unlink(tmp);
    }
    fsyncDir(dir);
  } finally {
    await fs.promises.rm(tmp, { force: true });
  }
}
