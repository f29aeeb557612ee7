/**
 * What the language server knows about the store: for every active experiment's runs, which
 * metric, param and tag keys exist (and how many runs have each), metric ranges and latest
 * values, and the values seen for params and tags. Read over REST in large pages, once, then
 * refreshed in the background when the server's change feed says runs changed; while no server
 * answers, the cache is empty and the editor falls back to syntax-only checks.
 */
import { TrackingClient } from '../client/trackingClient';
import { ChangeStream } from '../client/changeStream';
import type { WireFileInfo, WireRun } from '../client/wireTypes';
import type { KnownKeys } from '../filter/filterCheck';
import type { KeySource } from '../filter/vocabulary';

export interface RunSummary {
  runId: string;
  name: string;
  experimentId: string;
  status: string;
  startTime: number;
  metrics: Map<string, number>;
  sourceName: string | undefined;
}

export interface KeyStats {
  count: number;
  /** Metrics: range and the value of the most recently started run having it. */
  min?: number;
  max?: number;
  latest?: { value: number; run: RunSummary };
  /** Params and tags: how many runs have each value. */
  values?: Map<string, number>;
}

export interface StoreSnapshot {
  loadedAt: number;
  runCount: number;
  /** Newest first. */
  runs: RunSummary[];
  keys: Record<KeySource, Map<string, KeyStats>>;
  known: KnownKeys;
  /** What these runs are, for messages: "the store" or "experiment 'churn'". */
  scope: string;
}

export interface ExperimentSummary {
  id: string;
  name: string;
}

/** The whole store, and each active experiment on its own (what a call that names one sees). */
export interface StoreIndex extends StoreSnapshot {
  experiments: ExperimentSummary[];
  byExperiment: Map<string, StoreSnapshot>;
  /** Merged views of several experiments, built on first use. */
  scopes: Map<string, StoreSnapshot>;
}

const PAGE = 5000;
/** Enough history for completion and hovers; older runs rarely hold keys that recent ones lack. */
const MAX_RUNS_PER_EXPERIMENT = 50_000;
const REFRESH_DEBOUNCE_MS = 1500;
const ARTIFACT_TTL_MS = 10_000;

function summarize(runs: WireRun[], scope: string): StoreSnapshot {
  const keys: StoreSnapshot['keys'] = { metrics: new Map(), params: new Map(), tags: new Map() };
  const summaries: RunSummary[] = [];
  const bump = (map: Map<string, KeyStats>, key: string): KeyStats => {
    let s = map.get(key);
    if (!s) map.set(key, (s = { count: 0 }));
    s.count++;
    return s;
  };
  const sorted = [...runs].sort((a, b) => (b.info.start_time ?? 0) - (a.info.start_time ?? 0));
  for (const r of sorted) {
    const metrics = new Map<string, number>();
    const summary: RunSummary = {
      runId: r.info.run_id,
      name: r.info.run_name ?? r.info.run_id.slice(0, 8),
      experimentId: r.info.experiment_id,
      status: r.info.status,
      startTime: r.info.start_time ?? 0,
      metrics,
      sourceName: r.data.tags?.find((t) => t.key === 'mlflow.source.name')?.value,
    };
    summaries.push(summary);
    for (const m of r.data.metrics ?? []) {
      metrics.set(m.key, m.value);
      const s = bump(keys.metrics, m.key);
      if (typeof m.value === 'number' && Number.isFinite(m.value)) {
        s.min = s.min === undefined ? m.value : Math.min(s.min, m.value);
        s.max = s.max === undefined ? m.value : Math.max(s.max, m.value);
      }
      s.latest ??= { value: m.value, run: summary };
    }
    for (const [source, list] of [['params', r.data.params], ['tags', r.data.tags]] as const) {
      for (const kv of list ?? []) {
        const s = bump(keys[source], kv.key);
        s.values ??= new Map();
        s.values.set(kv.value, (s.values.get(kv.value) ?? 0) + 1);
      }
    }
  }
  return finish(summaries, keys, scope);
}

function finish(runs: RunSummary[], keys: StoreSnapshot['keys'], scope: string): StoreSnapshot {
  const known: KnownKeys = { metrics: new Set(keys.metrics.keys()), params: new Set(keys.params.keys()), tags: new Set(keys.tags.keys()) };
  return { loadedAt: Date.now(), runCount: runs.length, runs, keys, known, scope };
}

/** Several experiments' snapshots as one: counts and value counts add up, ranges widen, the latest is the newest run's. */
export function mergeSnapshots(parts: StoreSnapshot[], scope: string): StoreSnapshot {
  if (parts.length === 1) return { ...parts[0]!, scope };
  const keys: StoreSnapshot['keys'] = { metrics: new Map(), params: new Map(), tags: new Map() };
  for (const part of parts) {
    for (const source of ['metrics', 'params', 'tags'] as const) {
      for (const [key, s] of part.keys[source]) {
        const into = keys[source].get(key);
        if (!into) {
          keys[source].set(key, { ...s, ...(s.values ? { values: new Map(s.values) } : {}) });
          continue;
        }
        into.count += s.count;
        if (s.min !== undefined) into.min = into.min === undefined ? s.min : Math.min(into.min, s.min);
        if (s.max !== undefined) into.max = into.max === undefined ? s.max : Math.max(into.max, s.max);
        if (s.latest && (!into.latest || s.latest.run.startTime > into.latest.run.startTime)) into.latest = s.latest;
        if (s.values) {
          into.values ??= new Map();
          for (const [v, n] of s.values) into.values.set(v, (into.values.get(v) ?? 0) + n);
        }
      }
    }
  }
  const runs = parts.flatMap((p) => p.runs).sort((a, b) => b.startTime - a.startTime);
  return finish(runs, keys, scope);
}

/** The index over runs grouped by experiment. */
export function indexRuns(experiments: ExperimentSummary[], runs: WireRun[]): StoreIndex {
  const groups = new Map<string, WireRun[]>(experiments.map((e) => [e.id, []]));
  for (const r of runs) groups.get(r.info.experiment_id)?.push(r);
  const byExperiment = new Map<string, StoreSnapshot>();
  for (const e of experiments) byExperiment.set(e.id, summarize(groups.get(e.id) ?? [], `experiment '${e.name}'`));
  const all = mergeSnapshots([...byExperiment.values()], 'the store');
  return { ...all, experiments, byExperiment, scopes: new Map() };
}

/** The experiments a reference names that the store has, and the ids or names it does not have. */
export function resolveExperiments(index: StoreIndex, ref: { ids?: string[]; names?: string[] }): { found: ExperimentSummary[]; missing: string[] } {
  const found: ExperimentSummary[] = [];
  const missing: string[] = [];
  for (const id of ref.ids ?? []) {
    const e = index.experiments.find((x) => x.id === id);
    if (e) found.push(e);
    else missing.push(id);
  }
  for (const name of ref.names ?? []) {
    const e = index.experiments.find((x) => x.name === name);
    if (e) found.push(e);
    else missing.push(name);
  }
  return { found, missing };
}

/**
 * The runs a call with this experiment reference reads: those experiments' runs when every one
 * of them exists, else (no reference, or one the store does not have) the whole store.
 */
export function scoped(index: StoreIndex | undefined, ref: { ids?: string[]; names?: string[] } | undefined): StoreSnapshot | undefined {
  if (!index || !ref) return index;
  const { found, missing } = resolveExperiments(index, ref);
  if (missing.length || !found.length) return index;
  const ids = [...new Set(found.map((e) => e.id))].sort();
  const key = ids.join('\u0000');
  let hit = index.scopes.get(key);
  if (!hit) {
    const scope = ids.length === 1 ? `experiment '${found.find((e) => e.id === ids[0])!.name}'` : `experiments ${found.map((e) => `'${e.name}'`).join(', ')}`;
    hit = mergeSnapshots(ids.map((id) => index.byExperiment.get(id)!), scope);
    index.scopes.set(key, hit);
  }
  return hit;
}

export class KeyCache {
  private snapshot: StoreIndex | undefined;
  private loading: Promise<StoreIndex | undefined> | undefined;
  private stream: ChangeStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private client: TrackingClient | undefined;
  private failedAt = 0;
  private readonly artifacts = new Map<string, { at: number; files: WireFileInfo[] }>();

  /** `onRefresh` runs after each reload (diagnostics are re-published with the new keys). */
  constructor(
    trackingUri: string | undefined,
    private readonly onRefresh: () => void,
    private readonly log: (line: string) => void,
  ) {
    this.setTrackingUri(trackingUri);
  }

  setTrackingUri(uri: string | undefined): void {
    this.stream?.close();
    this.stream = undefined;
    this.snapshot = undefined;
    this.loading = undefined;
    this.failedAt = 0;
    this.artifacts.clear();
    this.client = uri && /^https?:\/\//.test(uri) ? new TrackingClient(uri.replace(/\/+$/, '')) : undefined;
    if (!this.client) return;
    this.stream = new ChangeStream(this.client.baseUrl, (e) => {
      if (e.kind !== 'run' && e.kind !== 'experiment') return;
      if (this.timer) clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.reload(), REFRESH_DEBOUNCE_MS);
    });
  }

  get trackingUri(): string | undefined {
    return this.client?.baseUrl;
  }

  /** The current snapshot, loading it on first use; undefined while no server answers. */
  async get(): Promise<StoreIndex | undefined> {
    if (this.snapshot) return this.snapshot;
    // No server: answer syntax-only at once rather than wait on a connection per keystroke.
    if (Date.now() - this.failedAt < 5000) return undefined;
    return this.reload();
  }

  /** What is known right now, without waiting. */
  peek(): StoreIndex | undefined {
    return this.snapshot;
  }

  reload(): Promise<StoreIndex | undefined> {
    if (this.loading) return this.loading;
    const client = this.client;
    if (!client) return Promise.resolve(undefined);
    this.loading = (async () => {
      const started = Date.now();
      try {
        const experiments = await client.listExperiments('ACTIVE_ONLY');
        const runs: WireRun[] = [];
        for (const e of experiments) {
          let token: string | undefined;
          let got = 0;
          do {
            const page = await client.searchRuns({ experimentIds: [e.experiment_id], maxResults: PAGE, orderBy: ['attributes.start_time DESC'], ...(token ? { pageToken: token } : {}) });
            runs.push(...page.runs);
            got += page.runs.length;
            token = page.nextPageToken;
          } while (token && got < MAX_RUNS_PER_EXPERIMENT);
        }
        if (client !== this.client) return this.snapshot;
        this.snapshot = indexRuns(experiments.map((e) => ({ id: e.experiment_id, name: e.name })), runs);
        this.log(`key cache: ${runs.length} runs of ${experiments.length} experiments in ${Date.now() - started} ms`);
        this.onRefresh();
        return this.snapshot;
      } catch (err) {
        this.failedAt = Date.now();
        this.log(`key cache: no answer from ${client.baseUrl} (${(err as Error).message}); syntax-only until it answers`);
        return this.snapshot;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /**
   * One directory of a run's artifacts (`''` is the root), read when a hover asks and kept for a
   * few seconds so moving the mouse over a file's arguments reads it once.
   */
  async listArtifacts(runId: string, dir: string): Promise<WireFileInfo[]> {
    const client = this.client;
    if (!client) return [];
    const key = `${runId}\u0000${dir}`;
    const hit = this.artifacts.get(key);
    if (hit && Date.now() - hit.at < ARTIFACT_TTL_MS) return hit.files;
    const files = await client.listArtifacts(runId, dir || undefined);
    if (this.artifacts.size > 1000) this.artifacts.clear();
    this.artifacts.set(key, { at: Date.now(), files });
    return files;
  }

  dispose(): void {
    this.stream?.close();
    if (this.timer) clearTimeout(this.timer);
  }
}
