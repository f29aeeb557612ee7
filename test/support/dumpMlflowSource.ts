/**
 * Dumps everything an MlflowSource reads as JSON on stdout, for the interop tests that compare it
 * with what the real `mlflow` client reads from the same store (test/interop/test_mlflow_sources.py).
 *
 *   node dump.js <mlflow.db | mlruns dir> [--artifacts-destination DIR] [--summary]
 *
 * Non-finite numbers are written as Python's json reads them (NaN, Infinity, -Infinity).
 * `--summary` iterates everything but prints only counts and the time taken (the benchmark).
 * The test bundles this file with esbuild, so the reader runs as it does from dist/cli.js.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectMlflowStore, openMlflowSource } from '../../src/backend/transfer/detect';
import type { ArtifactLocation } from '../../src/backend/api/source';

function listFiles(dir: string | undefined): string[] | null {
  if (dir === undefined || !fs.existsSync(dir)) return null;
  const out: string[] = [];
  const walk = (sub: string): void => {
    for (const e of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub === '' ? e.name : `${sub}/${e.name}`;
      if (e.isDirectory()) walk(rel);
      else out.push(rel);
    }
  };
  walk('');
  return out.sort();
}

function artifacts(loc: ArtifactLocation): { uri: string; dir: string | null; files: string[] | null } {
  return { uri: loc.uri, dir: loc.dir ?? null, files: listFiles(loc.dir) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const store = args[0];
  if (!store) throw new Error('usage: dump.js <mlflow.db | mlruns dir> [--artifacts-destination DIR] [--summary]');
  const destIndex = args.indexOf('--artifacts-destination');
  const summary = args.includes('--summary');
  const started = performance.now();
  const source = await openMlflowSource(store, destIndex > 0 ? { artifactsDestination: args[destIndex + 1]! } : {});
  const openedMs = performance.now() - started;
  const counts = { experiments: 0, runs: 0, params: 0, tags: 0, latestMetrics: 0, metricPoints: 0, registeredModels: 0, modelVersions: 0, loggedModels: 0, traces: 0, spans: 0 };
  const dump: Record<string, unknown> = { kind: source.kind, detected: detectMlflowStore(store), description: source.description };
  const experiments: unknown[] = [];
  const runs: Record<string, unknown[]> = {};
  const history: Record<string, unknown[]> = {};
  const runArtifacts: Record<string, unknown> = {};
  const loggedModels: Record<string, unknown[]> = {};
  const traces: Record<string, unknown[]> = {};
  for await (const e of source.experiments()) {
    counts.experiments++;
    if (!summary) experiments.push(e);
    const id = e.experiment_id;
    for await (const run of source.runs(id)) {
      counts.runs++;
      counts.params += run.data.params.length;
      counts.tags += run.data.tags.length;
      counts.latestMetrics += run.data.metrics.length;
      const points: unknown[] = [];
      for await (const batch of source.metricHistory(run.info.run_id)) {
        counts.metricPoints += batch.length;
        if (!summary) points.push(...batch);
      }
      if (!summary) {
        (runs[id] ??= []).push(run);
        history[run.info.run_id] = points;
        runArtifacts[run.info.run_id] = artifacts(source.runArtifacts(run));
      }
    }
    for await (const m of source.loggedModels(id)) {
      counts.loggedModels++;
      if (!summary) (loggedModels[id] ??= []).push({ ...m, artifacts: artifacts(source.loggedModelArtifacts(m)) });
    }
    for await (const t of source.traces(id)) {
      counts.traces++;
      counts.spans += t.spans.length;
      if (!summary) (traces[id] ??= []).push(t);
    }
  }
  const registered: unknown[] = [];
  for await (const rm of source.registeredModels()) {
    counts.registeredModels++;
    counts.modelVersions += rm.versions.length;
    if (!summary) registered.push(rm);
  }
  await source.close();
  const totalMs = performance.now() - started;
  if (summary) {
    process.stdout.write(`${JSON.stringify({ description: source.description, openedMs: Math.round(openedMs), totalMs: Math.round(totalMs), rssMB: Math.round(process.memoryUsage().rss / 1e6), counts })}\n`);
    return;
  }
  Object.assign(dump, { experiments, runs, history, runArtifacts, registeredModels: registered, loggedModels, traces });
  const text = JSON.stringify(dump, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `__num__${String(v)}` : v));
  process.stdout.write(text.replace(/"__num__(NaN|Infinity|-Infinity)"/g, '$1'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
