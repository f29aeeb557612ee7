/**
 * Imports that run inside the server that owns a store (the store is locked by it, so the CLI
 * and the extension cannot open it themselves). `POST /runlens/api/import {source}` starts one
 * and answers its id at once; `GET /runlens/api/import?job_id=` reports progress and, at the
 * end, the one-line summary `runlens import` prints. Imports run one at a time, in order.
 *
 * What an import does is given by the composition root (serve.ts): the server only knows the
 * store interface, not how MLflow's stores are read or how the local store takes them in.
 */
import { randomUUID } from 'node:crypto';
import { MlflowError, invalidParameter } from '../domain/errors';
import type { Router } from './router';

export interface ImportProgress {
  experiments: number;
  runs: number;
  metricPoints: number;
  artifacts: number;
  traces: number;
}

export interface ImportOutcome {
  /** `imported N experiments, N runs, …` */
  summary: string;
  skipped: string[];
}

export type ImportRunner = (source: string, onProgress: (p: ImportProgress) => void) => Promise<ImportOutcome>;

interface Job {
  id: string;
  source: string;
  state: 'queued' | 'running' | 'done' | 'failed';
  progress: ImportProgress;
  outcome?: ImportOutcome;
  error?: string;
  started: number;
  finished?: number;
}

/** Finished jobs kept for their reports (a client polling late still gets its answer). */
const KEEP_FINISHED = 20;

export class ImportJobs {
  private readonly jobs = new Map<string, Job>();
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly run: ImportRunner | undefined) {}

  start(source: string): Job {
    // A refusal, not a server fault: this server serves a store it may not write (read-only).
    if (!this.run) throw new MlflowError('PERMISSION_DENIED', 'This server cannot import: it does not serve a writable Runlens store. Import through the server that owns your Runlens store, or with `runlens import`.');
    const job: Job = { id: randomUUID(), source, state: 'queued', progress: { experiments: 0, runs: 0, metricPoints: 0, artifacts: 0, traces: 0 }, started: Date.now() };
    this.jobs.set(job.id, job);
    const run = this.run;
    this.queue = this.queue.then(async () => {
      job.state = 'running';
      try {
        job.outcome = await run(source, (p) => (job.progress = p));
        job.state = 'done';
      } catch (err) {
        job.error = (err as Error).message;
        job.state = 'failed';
      }
      job.finished = Date.now();
      this.prune();
    });
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  private prune(): void {
    const finished = [...this.jobs.values()].filter((j) => j.finished !== undefined).sort((a, b) => a.finished! - b.finished!);
    for (const j of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.jobs.delete(j.id);
  }

  register(router: Router): void {
    router.plain('POST', '/runlens/api/import', async ({ fields }) => {
      const source = fields.string('source');
      if (!source) throw invalidParameter("Missing value for required parameter 'source': the path of an mlflow.db, a legacy mlruns/ folder, or an MLflow server URL.");
      return wire(this.start(source));
    });
    router.plain('GET', '/runlens/api/import', async ({ fields }) => {
      const id = fields.string('job_id') ?? '';
      const job = this.jobs.get(id);
      if (!job) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No import with id '${id}' (finished imports are kept for a while, then forgotten).`);
      return wire(job);
    });
  }
}

function wire(job: Job): Record<string, unknown> {
  return {
    job_id: job.id,
    source: job.source,
    state: job.state,
    progress: { experiments: job.progress.experiments, runs: job.progress.runs, metric_points: job.progress.metricPoints, artifacts: job.progress.artifacts, traces: job.progress.traces },
    ...(job.outcome ? { summary: job.outcome.summary, skipped: job.outcome.skipped } : {}),
    ...(job.error ? { error: job.error } : {}),
  };
}
