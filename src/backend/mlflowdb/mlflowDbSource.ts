/**
 * An `mlflow.db` (MLflow's SQLAlchemy schema, any alembic revision from 2.x on) read as an
 * MlflowSource. The file is copied into memory once (with its committed WAL frames) and opened by
 * sql.js from that copy, so the file is never locked or written and MLflow can go on writing it;
 * a later change is seen by opening a new source.
 */
import * as path from 'node:path';
import { loadSqlJs, SqlDb } from '../../store/sqlite';
import type { Experiment, Metric } from '../../domain/types';
import type { LoggedModel } from '../../domain/modelTypes';
import { resolveArtifactDir, type ArtifactRoots } from '../transfer/artifactDirs';
import type { ArtifactLocation, MlflowSource, SourceOptions, SourceRegisteredModel, SourceRun, SourceTrace } from '../api/source';
import { readTraceArtifactSpans } from '../transfer/traceArtifacts';
import { readDbImage } from './dbImage';
import { readLoggedModels, readRegisteredModels } from './dbModels';
import { DbSchema } from './dbSchema';
import { readTraces } from './dbTraces';
import { readExperiments, readMetricHistory, readRuns } from './dbTracking';

/**
 * sql.js holds the whole image in its WASM heap (2 GiB at most, and it needs room to work): past
 * this, opening would fail deep inside the WASM allocator instead of with a message.
 */
const MAX_IMAGE_BYTES = 1.5 * 1024 ** 3;

export class MlflowDbSource implements MlflowSource {
  readonly kind = 'mlflow.db' as const;

  private constructor(
    private readonly db: SqlDb,
    private readonly schema: DbSchema,
    private readonly roots: ArtifactRoots,
    readonly description: string,
  ) {}

  /** Opens `file` read-only; relative artifact paths resolve against its folder unless `opts` say otherwise. */
  static async open(file: string, opts: SourceOptions = {}): Promise<MlflowDbSource> {
    const abs = path.resolve(file);
    const image = await readDbImage(abs);
    if (image.bytes.length > MAX_IMAGE_BYTES) {
      throw new Error(
        `${abs} is ${(image.bytes.length / 1024 ** 3).toFixed(1)} GiB; Runlens reads an mlflow.db in memory and holds at most ${(MAX_IMAGE_BYTES / 1024 ** 3).toFixed(1)} GiB. Serve it with \`mlflow server\` and import from its URL instead.`,
      );
    }
    const SQL = await loadSqlJs();
    const db = new SqlDb(new SQL.Database(image.bytes));
    try {
      const schema = new DbSchema(db);
      if (!schema.isMlflow) throw new Error(`${abs} is an SQLite database but not an MLflow tracking store (no experiments, runs and metrics tables).`);
      const baseDir = opts.baseDir ?? path.dirname(abs);
      const roots: ArtifactRoots = { baseDir, artifactsDestination: opts.artifactsDestination ?? path.join(path.dirname(abs), 'mlartifacts') };
      const wal = image.walFrames > 0 ? `, ${image.walFrames} committed WAL frames applied` : '';
      return new MlflowDbSource(db, schema, roots, `mlflow.db at ${abs} (alembic revision ${schema.revision ?? 'unknown'}${wal})`);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  async *experiments(): AsyncIterable<Experiment> {
    yield* readExperiments(this.db, this.schema);
  }

  async *runs(experimentId: string): AsyncIterable<SourceRun> {
    for (const chunk of readRuns(this.db, this.schema, experimentId)) yield* chunk;
  }

  async *metricHistory(runId: string): AsyncIterable<Metric[]> {
    yield* readMetricHistory(this.db, runId);
  }

  runArtifacts(run: SourceRun): ArtifactLocation {
    return resolveArtifactDir(run.info.artifact_uri, this.roots);
  }

  async *registeredModels(): AsyncIterable<SourceRegisteredModel> {
    yield* readRegisteredModels(this.db, this.schema);
  }

  async *loggedModels(experimentId: string): AsyncIterable<LoggedModel> {
    yield* readLoggedModels(this.db, this.schema, experimentId);
  }

  loggedModelArtifacts(model: LoggedModel): ArtifactLocation {
    return resolveArtifactDir(model.info.artifact_uri, this.roots);
  }

  async *traces(experimentId: string): AsyncIterable<SourceTrace> {
    const spans = (location: string | undefined): ReturnType<typeof readTraceArtifactSpans> =>
      readTraceArtifactSpans(location === undefined ? undefined : resolveArtifactDir(location, this.roots).dir);
    for (const chunk of readTraces(this.db, this.schema, experimentId, spans)) yield* chunk;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
