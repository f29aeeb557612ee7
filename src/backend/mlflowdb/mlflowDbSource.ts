/**
 * An `mlflow.db` (MLflow's SQLAlchemy schema, any alembic revision from 2.x on) read as an
 * MlflowSource. The file is copied into memory once (with its committed WAL frames) and opened by
 * sql.js from that copy, so the file is never locked or written and MLflow can go on writing it;
 * a later change is seen by opening a new source. A file too large for that keeps its metric
 * history on disk, read page by page (largeDb.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSqlJs, SqlDb } from '../../store/sqlite';
import type { Experiment, Metric } from '../../domain/types';
import type { LoggedModel } from '../../domain/modelTypes';
import { resolveArtifactDir, type ArtifactRoots } from '../transfer/artifactDirs';
import type { ArtifactLocation, MlflowSource, SourceOptions, SourceRegisteredModel, SourceRun, SourceTrace } from '../api/source';
import { readTraceArtifactSpans } from '../transfer/traceArtifacts';
import { readDbImage } from './dbImage';
import { openLargeDb } from './largeDb';
import { readLoggedModels, readRegisteredModels } from './dbModels';
import { DbSchema } from './dbSchema';
import { readTraces } from './dbTraces';
import { readExperiments, readMetricHistory, readRuns } from './dbTracking';

/**
 * sql.js holds the whole image in its WASM heap (2 GiB at most, with a copy on the JS side while
 * it loads): a larger file is opened with its history left in the file (largeDb.ts). The
 * environment variable lowers the bar, so tests can take that path with a small store.
 */
const MAX_IMAGE_BYTES = Number(process.env.RUNLENS_MLFLOWDB_MAX_IMAGE_BYTES) || 512 * 1024 ** 2;

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

export class MlflowDbSource implements MlflowSource {
  readonly kind = 'mlflow.db' as const;

  private constructor(
    private readonly db: SqlDb,
    private readonly schema: DbSchema,
    private readonly roots: ArtifactRoots,
    readonly description: string,
    /** Set when the history stays in the file (a large database). */
    private readonly large?: { history: (runId: string) => Generator<Metric[]>; close: () => void },
  ) {}

  /** Opens `file` read-only; relative artifact paths resolve against its folder unless `opts` say otherwise. */
  static async open(file: string, opts: SourceOptions = {}): Promise<MlflowDbSource> {
    const abs = path.resolve(file);
    let db: SqlDb;
    let walFrames: number;
    let large: { history: (runId: string) => Generator<Metric[]>; close: () => void } | undefined;
    if (fileSize(abs) + fileSize(`${abs}-wal`) > MAX_IMAGE_BYTES) {
      const opened = await openLargeDb(abs);
      ({ db, walFrames } = opened);
      large = opened;
    } else {
      const image = await readDbImage(abs);
      const SQL = await loadSqlJs();
      db = new SqlDb(new SQL.Database(image.bytes));
      walFrames = image.walFrames;
    }
    try {
      const schema = new DbSchema(db);
      if (!schema.isMlflow) throw new Error(`${abs} is an SQLite database but not an MLflow tracking store (no experiments, runs and metrics tables).`);
      const baseDir = opts.baseDir ?? path.dirname(abs);
      const roots: ArtifactRoots = { baseDir, artifactsDestination: opts.artifactsDestination ?? path.join(path.dirname(abs), 'mlartifacts') };
      const notes = [walFrames > 0 ? `${walFrames} committed WAL frames applied` : '', large ? 'metric history read from the file' : ''].filter(Boolean);
      const description = `mlflow.db at ${abs} (alembic revision ${schema.revision ?? 'unknown'}${notes.map((n) => `, ${n}`).join('')})`;
      return new MlflowDbSource(db, schema, roots, description, large);
    } catch (err) {
      db.close();
      large?.close();
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
    yield* this.large ? this.large.history(runId) : readMetricHistory(this.db, runId);
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
    this.large?.close();
  }
}
