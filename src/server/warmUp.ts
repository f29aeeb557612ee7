/**
 * Warms the write path up right after `runlens serve` listens, so a user's first requests run
 * optimized code. A cold server runs its first 1000-point log-batches in V8's interpreter: ~20 ms
 * each, where a warm one takes ~3 ms (CPU profile of a 100-run ingest; neither a V8 code cache
 * nor V8's tiering flags change it: it is execution, not compilation). So the server sends
 * itself a small training session, through HTTP and the same router, handlers and store code,
 * into a scratch store in the temp folder that is removed afterwards. Warm-up requests are small
 * (100 points) and each waits for its own turn of the event loop, so a real request that arrives
 * meanwhile is served between two of them. Measured on a 100-run ingest started 1.8 s after the
 * server (bench/sbs/loopdelay.py): the longest event-loop stall went from 16-17 ms to 7-8 ms.
 *
 * RUNLENS_WARMUP=off skips it. A scratch folder left behind by a killed server is removed by the
 * next one that starts.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { TrackingStore } from '../backend/api/tracking';
import { silentLogger, type Logger } from '../domain/logger';
import { startServer } from './httpServer';

export const WARMUP_ENV = 'RUNLENS_WARMUP';
const PREFIX = 'runlens-warmup-';

/** The scratch session's shape: enough calls for V8 to optimize the per-point and per-request code. */
export interface WarmUpShape {
  runs: number;
  batchesPerRun: number;
  /** Metric points per log-batch (keys × steps). */
  pointsPerBatch: number;
  /** Gives up after this long (a machine so loaded that warming takes this long gains nothing). */
  maxMs: number;
  /** Starts this long after the server listens: a client polling for readiness is answered first. */
  delayMs: number;
}

export const DEFAULT_WARMUP: WarmUpShape = { runs: 12, batchesPerRun: 6, pointsPerBatch: 100, maxMs: 10_000, delayMs: 100 };

/** A store of the served kind, made fresh in `root` (the composition root opens it: serve.ts). */
export interface ScratchStore {
  store: TrackingStore;
  /** Closes it without a checkpoint: it is removed right after. */
  close(): Promise<void>;
}

/** What the warm-up needs from the layers below the server, given by the composition root (serve.ts). */
export interface WarmUpDeps {
  /** A store of the served kind, made fresh in `root`. */
  openScratch(root: string): Promise<ScratchStore>;
  /** Whether a pid runs on this machine (a scratch folder of a live server is not a leftover). */
  processAlive(pid: number): boolean;
}

export interface WarmUp {
  /** Settles when the warm-up has finished, given up or been stopped (never rejects). */
  readonly done: Promise<WarmUpResult>;
  /** Stops it (at the next request) and removes the scratch store. */
  stop(): Promise<void>;
}

export interface WarmUpResult {
  requests: number;
  ms: number;
  /** Why it ended early, if it did. */
  stopped?: string;
}

/** Scratch folders of servers that are gone (killed before they removed theirs). */
function pruneLeftovers(processAlive: (pid: number) => boolean): void {
  let names: string[];
  try {
    names = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith(PREFIX));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(name.slice(PREFIX.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    void fs.promises.rm(path.join(os.tmpdir(), name), { recursive: true, force: true }).catch(() => undefined);
  }
}

function post(agent: http.Agent, base: URL, route: string, body: unknown): Promise<Record<string, unknown>> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(`/api/2.0/mlflow/${route}`, base),
      { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`${route}: ${res.statusCode} ${answer.slice(0, 200)}`));
          else resolve(JSON.parse(answer) as Record<string, unknown>);
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

export function startWarmUp(deps: WarmUpDeps, log: Logger, shape: WarmUpShape = DEFAULT_WARMUP): WarmUp {
  let stopReason: string | undefined;
  const started = Date.now();
  let requests = 0;
  let dir: string | undefined;
  let closeAll: (() => Promise<void>) | undefined;

  let wake: (() => void) | undefined;
  const session = async (): Promise<void> => {
    await new Promise<void>((resolve) => {
      wake = resolve;
      setTimeout(resolve, shape.delayMs).unref();
    });
    if (stopReason) return;
    pruneLeftovers(deps.processAlive);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `${PREFIX}${process.pid}-`));
    const opened = await deps.openScratch(path.join(dir, 'store'));
    const server = await startServer({ store: opened.store, log: silentLogger, host: '127.0.0.1', port: 0 }).catch(async (err: Error) => {
      await opened.close();
      throw err;
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    closeAll = async () => {
      agent.destroy();
      await server.close();
      await opened.close();
    };
    const base = new URL(server.url);
    const call = async (route: string, body: unknown): Promise<Record<string, unknown>> => {
      // Its own turn of the event loop per request: what the real clients send goes first.
      await nextTurn();
      if (stopReason) throw new Error(stopReason);
      if (Date.now() - started > shape.maxMs) throw new Error(`gave up after ${shape.maxMs} ms`);
      requests++;
      return post(agent, base, route, body);
    };
    const now = Date.now();
    const exp = (await call('experiments/create', { name: 'warm-up' })).experiment_id as string;
    const keys = 10;
    const steps = Math.max(1, Math.floor(shape.pointsPerBatch / keys));
    for (let r = 0; r < shape.runs; r++) {
      const run = (await call('runs/create', { experiment_id: exp, start_time: now, tags: [{ key: 'mlflow.runName', value: `warm-${r}` }] })).run as { info: { run_id: string } };
      const runId = run.info.run_id;
      await call('runs/log-batch', {
        run_id: runId,
        params: Array.from({ length: 20 }, (_, k) => ({ key: `param_${k}`, value: `v${r}-${k}` })),
        tags: Array.from({ length: 10 }, (_, k) => ({ key: `tag_${k}`, value: `t${k}` })),
      });
      for (let b = 0; b < shape.batchesPerRun; b++) {
        const metrics = [];
        for (let k = 0; k < keys; k++) for (let s = 0; s < steps; s++) metrics.push({ key: `metric_${k}`, value: ((b * steps + s) % 97) / 7, timestamp: now + b * steps + s, step: b * steps + s });
        await call('runs/log-batch', { run_id: runId, metrics });
      }
      for (let s = 0; s < 4; s++) await call('runs/log-metric', { run_id: runId, key: 'loss', value: 1 / (s + 1), timestamp: now + s, step: s });
      await call('runs/update', { run_id: runId, status: 'FINISHED', end_time: now + 1000 });
    }
    await call('runs/search', { experiment_ids: [exp], filter: 'metrics.metric_0 > 1', order_by: ['metrics.metric_1 DESC'], max_results: 50 });
  };

  const done: Promise<WarmUpResult> = session()
    .then(
      () => undefined,
      (err: Error) => (stopReason ??= err.message),
    )
    .then(async () => {
      await closeAll?.().catch(() => undefined);
      // Asynchronous: removing the scratch files synchronously held the event loop for ~10 ms.
      if (dir) await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      const result: WarmUpResult = { requests, ms: Date.now() - started, ...(stopReason ? { stopped: stopReason } : {}) };
      log.debug(`warm-up: ${result.requests} requests in ${result.ms} ms${result.stopped ? ` (ended early: ${result.stopped})` : ''}`);
      return result;
    });

  return {
    done,
    async stop() {
      stopReason ??= 'the server is stopping';
      wake?.();
      await done;
    },
  };
}
