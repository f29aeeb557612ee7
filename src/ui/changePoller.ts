/**
 * Changes on a server without Runlens' change feed (a team `mlflow server`): the runs and traces
 * the open views show are polled, and what differs from the last look is reported as the feed
 * would report it, so views refresh the same way. Polls come quickly after a change and back off
 * (doubling up to `maxMs`) while nothing changes or the server does not answer.
 *
 * What is looked at per experiment: the 100 runs started last and the 100 newest traces (status,
 * end time, latest metrics, tags; trace state, duration, assessments); per run shown by itself
 * (a run page, a chart) that run. A first look only records; it reports nothing.
 */
import type { TrackingClient } from '../client/trackingClient';
import type { ChangeEvent, WireRun, WireTraceInfo } from '../client/wireTypes';
import type { UiRequest } from './protocol';

const PAGE = 100;

function runDigest(r: WireRun): string {
  const metrics = (r.data.metrics ?? []).map((m) => `${m.key}=${String(m.value)}@${m.step}/${m.timestamp}`).sort();
  const tags = (r.data.tags ?? []).map((t) => `${t.key}=${t.value}`).sort();
  return JSON.stringify([r.info.status, r.info.end_time ?? null, r.info.run_name ?? '', r.info.lifecycle_stage, metrics, tags, (r.data.params ?? []).length]);
}

function traceDigest(t: WireTraceInfo): string {
  return JSON.stringify([t.state, t.execution_duration ?? null, (t.assessments ?? []).map((a) => `${a.assessment_id}@${a.last_update_time}`).sort(), t.tags ?? {}]);
}

export class ChangePoller {
  private experiments = new Set<string>();
  private runs = new Set<string>();
  /** Last digest per run id / trace id (absent: not seen yet). */
  private readonly seenRuns = new Map<string, string>();
  private readonly seenTraces = new Map<string, string>();
  /** Experiments and runs looked at once already: later differences are changes. */
  private readonly baselined = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private delay: number;
  private stopped = false;

  constructor(
    private readonly client: Pick<TrackingClient, 'searchRuns' | 'searchTraces' | 'getRun'>,
    private readonly emit: (e: ChangeEvent) => void,
    private readonly minMs = 2000,
    private readonly maxMs = 30_000,
  ) {
    this.delay = minMs;
  }

  /** The current wait between polls (grows while nothing changes). */
  get intervalMs(): number {
    return this.delay;
  }

  /** What the open views show now; polling (re)starts soon when something new is watched. */
  watch(experimentIds: Iterable<string>, runIds: Iterable<string>): void {
    const exps = new Set(experimentIds);
    const runs = new Set(runIds);
    const grew = [...exps].some((e) => !this.experiments.has(e)) || [...runs].some((r) => !this.runs.has(r));
    this.experiments = exps;
    this.runs = runs;
    if (this.stopped) return;
    if (exps.size === 0 && runs.size === 0) {
      this.clear();
      return;
    }
    // While a poll is under way the next is scheduled when it ends (it reads the new sets then).
    if (this.polling) return;
    if (grew || this.timer === undefined) this.schedule(grew ? 0 : this.delay);
  }

  dispose(): void {
    this.stopped = true;
    this.clear();
  }

  /** One look at everything watched; resolves with how many changes it reported. */
  async poll(): Promise<number> {
    let changes = 0;
    const report = (e: ChangeEvent): void => {
      changes++;
      this.emit(e);
    };
    const inPages = new Set<string>();
    let failures = 0;
    let looked = 0;
    // Each experiment and run on its own: one that is gone (404) or closed to us (403) must not
    // stop the others being compared.
    for (const exp of this.experiments) {
      looked++;
      try {
        await this.pollExperiment(exp, inPages, report);
      } catch {
        failures++;
      }
    }
    for (const runId of this.runs) {
      if (inPages.has(runId)) continue;
      looked++;
      try {
        const first = !this.baselined.has(`r:${runId}`);
        this.compareRun(await this.client.getRun(runId), first && !this.seenRuns.has(runId), report);
        this.baselined.add(`r:${runId}`);
      } catch {
        failures++;
      }
    }
    // Nothing answered at all: the server is down or refuses us (the caller backs off).
    if (looked > 0 && failures === looked && changes === 0) throw new Error('the server did not answer');
    return changes;
  }

  private async pollExperiment(exp: string, inPages: Set<string>, report: (e: ChangeEvent) => void): Promise<void> {
    {
      const first = !this.baselined.has(`e:${exp}`);
      const page = await this.client.searchRuns({ experimentIds: [exp], orderBy: ['attributes.start_time DESC'], maxResults: PAGE, viewType: 'ALL' });
      for (const r of page.runs) {
        inPages.add(r.info.run_id);
        this.compareRun(r, first, report);
      }
      const traces = await this.client.searchTraces({ experimentIds: [exp], orderBy: ['timestamp_ms DESC'], maxResults: PAGE });
      for (const t of traces.traces) {
        const digest = traceDigest(t);
        const before = this.seenTraces.get(t.trace_id);
        this.seenTraces.set(t.trace_id, digest);
        if (!first && before !== digest) report({ kind: 'trace', traceId: t.trace_id, experimentId: exp });
      }
      this.baselined.add(`e:${exp}`);
    }
  }

  private compareRun(r: WireRun, first: boolean, report: (e: ChangeEvent) => void): void {
    const digest = runDigest(r);
    const before = this.seenRuns.get(r.info.run_id);
    this.seenRuns.set(r.info.run_id, digest);
    if (first || before === digest) return;
    report({ kind: 'run', runId: r.info.run_id, experimentId: r.info.experiment_id, ...(before === undefined ? { created: true } : {}) });
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    this.clear();
    this.timer = setTimeout(() => void this.tick(), ms);
    // A poll never keeps a process (a test, the extension host shutting down) alive.
    (this.timer as { unref?: () => void }).unref?.();
  }

  private polling = false;

  private async tick(): Promise<void> {
    this.timer = undefined;
    let changed = 0;
    this.polling = true;
    try {
      changed = await this.poll();
    } catch {
      // The server did not answer (or refused): look again later, less often.
    } finally {
      this.polling = false;
    }
    if (this.stopped || (this.experiments.size === 0 && this.runs.size === 0)) return;
    this.delay = changed > 0 ? this.minMs : Math.min(this.maxMs, this.delay * 2);
    this.schedule(this.delay);
  }
}

/** The experiments and runs a view request is about: what a poller watches for the view that asked. */
export function watchedIds(request: UiRequest): { experimentIds: string[]; runIds: string[] } {
  const r = request as unknown as Record<string, unknown>;
  const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);
  return { experimentIds: list(r.experimentIds), runIds: [...list(r.runIds), ...(typeof r.runId === 'string' && r.runId ? [r.runId] : [])] };
}

type PollerClient = ConstructorParameters<typeof ChangePoller>[0];

/**
 * The views open on team servers and what each asked about; per server one poller watching the
 * union, gone once its last view closes. `View` is whatever names a view (a webview).
 */
export class ViewWatches<View> {
  private readonly views = new Map<View, { source: string; experiments: Set<string>; runs: Set<string> }>();
  private readonly pollers = new Map<string, { poller: ChangePoller; client: PollerClient }>();

  constructor(
    private readonly push: (source: string, change: ChangeEvent) => void,
    private readonly minMs?: number,
    private readonly maxMs?: number,
  ) {}

  /** A view on `source` asked `request`: what it is about is watched from now on. */
  note(view: View, source: string, client: PollerClient, request: UiRequest): void {
    const ids = watchedIds(request);
    if (ids.experimentIds.length === 0 && ids.runIds.length === 0) return;
    let w = this.views.get(view);
    const left = w && w.source !== source ? w.source : undefined;
    if (!w || left !== undefined) w = { source, experiments: new Set<string>(), runs: new Set<string>() };
    ids.experimentIds.forEach((id) => w.experiments.add(id));
    ids.runIds.forEach((id) => w.runs.add(id));
    this.views.set(view, w);
    this.rewatch(source, client);
    // The view moved to another server: the one it left stops watching what it showed.
    if (left !== undefined) this.rewatch(left);
  }

  /** The view closed (or now shows something else). */
  forget(view: View): void {
    const w = this.views.get(view);
    if (!w) return;
    this.views.delete(view);
    this.rewatch(w.source);
  }

  /** The poller of a server, while any of its views is open. */
  pollerOf(source: string): ChangePoller | undefined {
    return this.pollers.get(source)?.poller;
  }

  dispose(): void {
    this.pollers.forEach((p) => p.poller.dispose());
    this.pollers.clear();
    this.views.clear();
  }

  private rewatch(source: string, client?: PollerClient): void {
    const experiments = new Set<string>();
    const runs = new Set<string>();
    for (const w of this.views.values()) {
      if (w.source !== source) continue;
      w.experiments.forEach((id) => experiments.add(id));
      w.runs.forEach((id) => runs.add(id));
    }
    let entry = this.pollers.get(source);
    // Signed in again: a new client, so a new poller.
    if (entry && ((client && entry.client !== client) || (experiments.size === 0 && runs.size === 0))) {
      entry.poller.dispose();
      this.pollers.delete(source);
      entry = undefined;
    }
    if (experiments.size === 0 && runs.size === 0) return;
    if (!entry && client) {
      entry = { poller: new ChangePoller(client, (change) => this.push(source, change), this.minMs, this.maxMs), client };
      this.pollers.set(source, entry);
    }
    entry?.poller.watch(experiments, runs);
  }
}
