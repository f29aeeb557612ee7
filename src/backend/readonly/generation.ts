/**
 * One generation of a read-only view: the source's metadata mirrored into a throw-away Runlens
 * store in a temp folder, with the source kept open for histories and the artifacts served in
 * place. A reload builds a new generation and retires the old one; the signatures tell views
 * what changed in between.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../../domain/logger';
import type { StoreChange } from '../api/changes';
import type { MlflowSource } from '../api/source';
import { importSource } from '../../store/import/storeImport';
import { LocalStore } from '../../store/localStore';
import type { ExperimentIds } from './experimentIds';
import { ReadOnlyStoreError } from './readOnly';
import { localPathOf, ViewArtifacts } from './viewArtifacts';

export interface StoreViewOptions {
  /** What the store is, for messages: "the mlflow.db at /x". */
  description: string;
  /** How to write to it instead, for the read-only refusal. */
  importHint: string;
  openSource: () => Promise<MlflowSource>;
  /** Where `mlflow-artifacts:` URIs point (the artifacts destination `mlflow server` would use). */
  artifactsDestination?: string | undefined;
  /**
   * MLflow's file store lists a version's aliases in search results; its SQL store does not
   * (only get_model_version does). Mirror whichever the source is.
   */
  versionSearchHasAliases?: boolean;
  /** Files and folders whose changes mean the store changed; none: never reloaded. */
  watch?: string[];
  log: Logger;
}

export interface Generation {
  store: LocalStore;
  source: MlflowSource;
  artifacts: ViewArtifacts;
  tmp: string;
  /** Per-entity signatures, to tell views what a reload changed. */
  signatures: Map<string, string>;
}


const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

export async function build(opts: StoreViewOptions, ids: ExperimentIds): Promise<Generation> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-view-'));
  let store: LocalStore | undefined;
  let source: MlflowSource | undefined;
  try {
    // Nothing here needs to survive a crash (the real store is the source), so the mirror never
    // snapshots: a snapshot would block the server for 1–2 ms per MB of a big store, for nothing.
    store = await LocalStore.open({ root: tmp, log: quiet, noDefaultExperiment: true, truncateLongValues: false, checkpointBytes: Number.MAX_SAFE_INTEGER });
    source = await opts.openSource();
    await importSource(source, store.importTarget(), { mirror: true, experimentId: (id) => ids.local(id) });
    const target = store.importTarget();
    const roots = target.db.rows("SELECT artifact_location FROM experiments UNION SELECT artifact_location FROM logged_models").map((r) => String(r[0]));
    const localRoots = roots.map((r) => localPathOf(r)).filter((r): r is string => r !== undefined);
    const refuse = (): Error => new ReadOnlyStoreError(opts.description, opts.importHint);
    return { store, source, tmp, artifacts: new ViewArtifacts(opts.artifactsDestination, localRoots, refuse), signatures: signaturesOf(store) };
  } catch (err) {
    await source?.close().catch(() => undefined);
    await store?.close({ checkpoint: false }).catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

export async function retire(gen: Generation): Promise<void> {
  await gen.source.close().catch(() => undefined);
  await gen.store.close({ checkpoint: false }).catch(() => undefined);
  fs.rmSync(gen.tmp, { recursive: true, force: true });
}

/** One line per experiment, run and trace: what a view shows of it, to diff two generations. */
function signaturesOf(store: LocalStore): Map<string, string> {
  const db = store.importTarget().db;
  const out = new Map<string, string>();
  for (const r of db.rows('SELECT experiment_id, name, lifecycle_stage, last_update_time FROM experiments')) out.set(`e\u0000${r[0]}`, r.slice(1).join('\u0000'));
  const runs = db.rows(
    `SELECT r.run_uuid, r.experiment_id, r.status, r.end_time, r.lifecycle_stage, r.name,
            (SELECT count(*) || ':' || coalesce(sum(step), 0) || ':' || coalesce(sum(timestamp), 0) || ':' || coalesce(sum(value), 0) FROM latest_metrics m WHERE m.run = r.id),
            (SELECT count(*) FROM params p WHERE p.run = r.id), (SELECT count(*) || ':' || coalesce(sum(length(value)), 0) FROM tags t WHERE t.run = r.id)
       FROM runs r`,
  );
  for (const r of runs) out.set(`r\u0000${r[0]}\u0000${r[1]}`, r.slice(2).join('\u0000'));
  for (const r of db.rows('SELECT trace_id, experiment_id, state, execution_ms FROM traces')) out.set(`t\u0000${r[0]}\u0000${r[1]}`, r.slice(2).join('\u0000'));
  return out;
}

export function changesBetween(before: Map<string, string>, after: Map<string, string>): StoreChange[] {
  const out: StoreChange[] = [];
  for (const [key, sig] of after) {
    if (before.get(key) === sig) continue;
    const [kind, id, exp] = key.split('\u0000') as [string, string, string | undefined];
    if (kind === 'e') out.push({ kind: 'experiment', experimentId: id });
    else if (kind === 'r') out.push({ kind: 'run', runId: id, experimentId: exp!, ...(before.has(key) ? {} : { created: true }) });
    else out.push({ kind: 'trace', traceId: id, experimentId: exp! });
  }
  // Something gone (MLflow's gc): its experiment's list changed.
  for (const key of before.keys()) {
    if (after.has(key)) continue;
    const [kind, id, exp] = key.split('\u0000') as [string, string, string | undefined];
    out.push({ kind: 'experiment', experimentId: kind === 'e' ? id : exp! });
  }
  return out;
}

export function stampOf(paths: string[]): string {
  return paths
    .flatMap((p) => [p, `${p}-wal`])
    .map((p) => {
      try {
        const s = fs.statSync(p);
        return `${s.size}:${s.mtimeMs}`;
      } catch {
        return '-';
      }
    })
    .join('|');
}
