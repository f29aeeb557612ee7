/**
 * What the language server knows about the store: for every active experiment's runs, which
 * metric, param and tag keys exist (and how many runs have each), metric ranges and latest
 * values, and the values seen for params and tags. Read over REST in large pages, once, then
 * refreshed in the background when the server's change feed says runs changed; while no server
 * answers, the cache is empty and the editor falls back to syntax-only checks.
 */
import { TrackingClient } from '../client/trackingClient';
import { ChangeStream } from '../client/changeStream';
import type { WireRun } from '../client/wireTypes';
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
}

const PAGE = 5000;
/** Enough history for completion and hovers; older runs rarely hold keys that recent ones lack. */
const MAX_RUNS_PER_EXPERIMENT = 50_000;
const REFRESH_DEBOUNCE_MS = 1500;

function summarize(runs: WireRun[]): StoreSnapshot {
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
  const known: KnownKeys = { metrics: new Set(keys.metrics.keys()), params: new Set(keys.params.keys()), tags: new Set(keys.tags.keys()) };
  return { loadedAt: Date.now(), runCount: runs.length, runs: summaries, keys, known };
}

export class KeyCache {
  private snapshot: StoreSnapshot | undefined;
  private loading: Promise<StoreSnapshot | undefined> | undefined;
  private stream: ChangeStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private client: TrackingClient | undefined;
  private failedAt = 0;

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
  async get(): Promise<StoreSnapshot | undefined> {
    if (this.snapshot) return this.snapshot;
    // No server: answer syntax-only at once rather than wait on a connection per keystroke.
    if (Date.now() - this.failedAt < 5000) return undefined;
    return this.reload();
  }

  /** What is known right now, without waiting. */
  peek(): StoreSnapshot | undefined {
    return this.snapshot;
  }

  reload(): Promise<StoreSnapshot | undefined> {
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
        this.snapshot = summarize(runs);
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

  dispose(): void {
    this.stream?.close();
    if (this.timer) clearTimeout(this.timer);
  }
}
