// Times opening an mlflow.db and reading everything in it through MlflowSource (as the importer
// will): experiments, runs with params/tags/latest metrics, every metric history, registry,
// logged models, traces. Make the database with make_big_db.py first.
//
//   node bench/mlflowdb/read_big_db.mjs <mlflow.db> [--repeat N]
//
// The reader runs from an esbuild bundle with sql.js's WASM beside it, as it does in dist/cli.js.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const db = process.argv[2];
if (!db) throw new Error('usage: node bench/mlflowdb/read_big_db.mjs <mlflow.db> [--repeat N]');
const repeatAt = process.argv.indexOf('--repeat');
const repeat = repeatAt > 0 ? Number(process.argv[repeatAt + 1]) : 1;

const out = join(root, 'bench', 'work', 'mlflowdb');
mkdirSync(out, { recursive: true });
await build({ entryPoints: [join(root, 'test', 'support', 'dumpMlflowSource.ts')], bundle: true, platform: 'node', target: 'node20', outfile: join(out, 'dump.js'), logLevel: 'warning' });
copyFileSync(join(dirname(createRequire(import.meta.url).resolve('sql.js')), 'sql-wasm.wasm'), join(out, 'sql-wasm.wasm'));

console.log(`${db}: ${(statSync(db).size / 1e6).toFixed(0)} MB`);
for (let i = 0; i < repeat; i++) {
  // A fresh process each time: the figure includes loading sql.js, as a first open does.
  const started = performance.now();
  const line = execFileSync(process.execPath, [join(out, 'dump.js'), db, '--summary'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const r = JSON.parse(line);
  const c = r.counts;
  console.log(
    `run ${i + 1}: open ${(r.openedMs / 1000).toFixed(1)} s, everything read ${(r.totalMs / 1000).toFixed(1)} s (process ${((performance.now() - started) / 1000).toFixed(1)} s), peak-ish RSS ${r.rssMB} MB — ` +
      `${c.experiments} experiments, ${c.runs} runs, ${c.params} params, ${c.tags} tags, ${c.latestMetrics} latest metrics, ${c.metricPoints} metric points, ` +
      `${c.registeredModels} models / ${c.modelVersions} versions, ${c.loggedModels} logged models, ${c.traces} traces`,
  );
  console.log(`  ${r.description}`);
}
