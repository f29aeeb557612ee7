/**
 * Measures the first page of `runs/search` on a large local store for every order_by shape, with
 * and without a filter, and prints the p50/p95 per shape (a harness, not a test: nothing asserts
 * on time). The store is seeded once through the store API and kept, so later runs only reopen it.
 *
 * Usage (after `npm run compile-tests`):
 *   node out/test/support/searchShapes.js [--runs 100000] [--root /tmp/runlens-shapes-100000] [--n 15] [--max 100] [--append FILE]
 * `--append` adds the table to FILE as a dated section (`npm run bench` appends it to bench/RESULTS.md).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalStore } from '../../src/store/localStore';
import type { MetricInput } from '../../src/domain/types';
import { MemoryLogger } from '../unit/helpers';

/** The order_by shapes the search plans must all serve from an index walk. */
export const SHAPES: { name: string; orderBy: string[] | undefined }[] = [
  { name: 'default (start_time DESC)', orderBy: undefined },
  { name: 'attributes.run_name', orderBy: ['attributes.run_name ASC'] },
  { name: 'attributes.status', orderBy: ['attributes.status ASC'] },
  { name: 'attributes.start_time ASC', orderBy: ['attributes.start_time ASC'] },
  { name: 'attributes.end_time DESC', orderBy: ['attributes.end_time DESC'] },
  { name: 'params.<low-card>', orderBy: ['params.model ASC'] },
  { name: 'params.<low-card>, metrics.<m>', orderBy: ['params.model ASC', 'metrics.loss DESC'] },
  { name: 'params.<high-card>', orderBy: ['params.lr DESC'] },
  { name: 'tags.<t>, start_time', orderBy: ['tags.team ASC', 'attributes.start_time DESC'] },
  { name: 'metrics.<m> DESC', orderBy: ['metrics.loss DESC'] },
];

export const FILTERS: (string | undefined)[] = [undefined, 'metrics.acc > 0.3', "params.model = 'cnn'"];

const STATUSES = ['FINISHED', 'FINISHED', 'FINISHED', 'FAILED', 'KILLED', 'RUNNING'] as const;
const MODELS = ['cnn', 'mlp', 'rnn', 'transformer'];

/** A small deterministic generator, so every seeded store is the same. */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The fields of run `i` of a seeded store (shared with the interop order test). */
export function seededRun(i: number, rnd: () => number): {
  name: string;
  startTime: number;
  status: (typeof STATUSES)[number];
  endTime: number | undefined;
  params: { key: string; value: string }[];
  tags: { key: string; value: string }[];
  metrics: MetricInput[];
  deleted: boolean;
} {
  const startTime = 1_700_000_000_000 + Math.floor(i / 3) * 1000; // ties in threes
  const status = STATUSES[Math.floor(rnd() * STATUSES.length)]!;
  const endTime = status === 'RUNNING' ? undefined : startTime + Math.floor(rnd() * 500) * 1000;
  const params = [{ key: 'lr', value: rnd().toFixed(6) }];
  if (rnd() < 0.9) params.push({ key: 'model', value: MODELS[Math.floor(rnd() * MODELS.length)]! });
  const tags = rnd() < 0.7 ? [{ key: 'team', value: rnd() < 0.5 ? 'a' : 'b' }] : [];
  const metrics: MetricInput[] = [];
  if (rnd() < 0.95) metrics.push({ key: 'loss', value: Math.round(rnd() * 1e4) / 1e4, timestamp: startTime, step: 0 });
  const a = rnd();
  if (a < 0.85) metrics.push({ key: 'acc', value: Math.round(rnd() * 100) / 100, timestamp: startTime, step: 0 });
  else if (a < 0.9) metrics.push({ key: 'acc', value: NaN, timestamp: startTime, step: 0 });
  return { name: `run-${Math.floor(rnd() * 20000)}`, startTime, status, endTime, params, tags, metrics, deleted: rnd() < 0.01 };
}

async function seed(store: LocalStore, runs: number): Promise<string> {
  const exp = await store.createExperiment('shapes');
  const rnd = lcg(42);
  const specs = Array.from({ length: runs }, (_, i) => seededRun(i, rnd));
  let next = 0;
  const t0 = Date.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < specs.length) {
        const s = specs[next++]!;
        const run = await store.createRun({ experimentId: exp, runName: s.name, startTime: s.startTime });
        const id = run.info.run_id;
        await store.logBatch(id, { params: s.params, tags: s.tags, metrics: s.metrics });
        await store.updateRun(id, s.endTime === undefined ? { status: s.status } : { status: s.status, endTime: s.endTime });
        if (s.deleted) await store.deleteRun(id);
        if (next % 10000 === 0 && s === specs[next - 1]) process.stderr.write(`seeded ${next} runs in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }),
  );
  return exp;
}

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  const runs = Number(flag('--runs', '100000'));
  const root = flag('--root', path.join(os.tmpdir(), `runlens-shapes-${runs}`));
  const n = Number(flag('--n', '15'));
  const maxResults = Number(flag('--max', '100'));
  const fresh = !fs.existsSync(root);
  const store = await LocalStore.open({ root, log: new MemoryLogger() });
  const exp = fresh ? await seed(store, runs) : (await store.searchExperiments({ filter: "name = 'shapes'" })).items[0]!.experiment_id;
  if (fresh) await store.close({ checkpoint: true });
  const s = fresh ? await LocalStore.open({ root, log: new MemoryLogger() }) : store;
  // One pass over every shape first: the collector is still busy with the just-loaded snapshot.
  for (const filter of FILTERS) for (const shape of SHAPES) await s.searchRuns({ experimentIds: [exp], filter, orderBy: shape.orderBy, maxResults });
  const append = flag('--append', '');
  const lines: string[] = [];
  const out = (line: string): void => {
    console.log(line);
    lines.push(line);
  };
  out(`${runs.toLocaleString('en')} runs, first page of ${maxResults}, ${n} repetitions (ms)`);
  out('');
  out('| order_by | filter | p50 | p95 |');
  out('|---|---|---|---|');
  for (const filter of FILTERS) {
    for (const shape of SHAPES) {
      const req = { experimentIds: [exp], filter, orderBy: shape.orderBy, maxResults };
      // The first call warms the statement cache; a plan that takes seconds is shown by it alone.
      const t0 = process.hrtime.bigint();
      await s.searchRuns(req);
      const warm = Number(process.hrtime.bigint() - t0) / 1e6;
      const ms: number[] = [];
      for (let i = 0; i < (warm > 1000 ? 0 : n); i++) {
        const t = process.hrtime.bigint();
        await s.searchRuns(req);
        ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      }
      if (ms.length === 0) {
        out(`| ${shape.name} | ${filter ?? '—'} | ${warm.toFixed(0)} (one call) | |`);
        continue;
      }
      ms.sort((a, b) => a - b);
      const q = (p: number): string => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(1);
      out(`| ${shape.name} | ${filter ?? '—'} | ${q(0.5)} | ${q(0.95)} |`);
    }
  }
  await s.close();
  if (append) {
    const head = `\n## runs/search, every order_by shape (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, in-process store)\n\n` +
      '`node out/test/support/searchShapes.js`: one experiment seeded once through the store API, the first page of `LocalStore.searchRuns` ' +
      '(compile + query + loading the runs), p50 and p95 after one warm pass. The seed: params `lr` (near-unique) and `model` (4 values) on 90% of runs, tag `team` on 70%, metrics `loss` on 95% and `acc` with 5% NaN, six statuses, 17% unterminated, 1% deleted.\n\n';
    fs.appendFileSync(append, head + lines.join('\n') + '\n');
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
