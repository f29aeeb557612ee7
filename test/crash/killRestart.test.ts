/**
 * Crash safety, end to end: HTTP clients log continuously to a real `runlens serve` process
 * while it is killed with SIGKILL and restarted, several times (with a tiny checkpoint threshold
 * so kills also land during snapshots). Every write a client saw acknowledged (HTTP 200) must be
 * there afterwards. Writes that were in flight when the process died may or may not be present.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCli } from '../support/cliServer';
import { tempRoot } from '../unit/helpers';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');
const A = '/api/2.0/mlflow';
const KILLS = 6;
const WRITERS = 8;

async function post(url: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${A}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${route} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function get(url: string, route: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${A}${route}`);
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${route} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

/** What the clients saw acknowledged. */
interface Acked {
  runs: Set<string>;
  metrics: Map<string, Map<string, number[]>>; // run → key → steps (value = step * 0.5)
  params: Map<string, Map<string, string>>;
  tags: Map<string, Map<string, string>>;
}

function remember<V>(m: Map<string, Map<string, V>>, run: string, key: string, value: V): void {
  let inner = m.get(run);
  if (!inner) m.set(run, (inner = new Map()));
  inner.set(key, value);
}

describe('crash safety: SIGKILL while clients log', function () {
  this.timeout(240_000);

  it('keeps every acknowledged write across repeated kills and restarts', async () => {
    assert.ok(fs.existsSync(CLI), `build the CLI first (${CLI})`);
    const root = tempRoot('runlens-crash-');
    const acked: Acked = { runs: new Set(), metrics: new Map(), params: new Map(), tags: new Map() };
    let server = await startCli(root, 0.05);
    let stop = false;
    let attempts = 0;
    let failures = 0;

    const writer = async (w: number): Promise<void> => {
      let runId: string | undefined;
      let step = 0;
      let n = 0;
      while (!stop) {
        const url = server.url;
        n++;
        try {
          if (!runId || n % 400 === 0) {
            const created = await post(url, '/runs/create', { experiment_id: '0', run_name: `w${w}-${n}`, start_time: Date.now() });
            runId = (created.run as { info: { run_id: string } }).info.run_id;
            acked.runs.add(runId);
            step = 0;
            continue;
          }
          attempts++;
          const kind = n % 4;
          if (kind === 0) {
            const s = step++;
            await post(url, '/runs/log-metric', { run_id: runId, key: `m${w}`, value: s * 0.5, timestamp: Date.now(), step: s });
            const steps = acked.metrics.get(runId)?.get(`m${w}`) ?? [];
            remember(acked.metrics, runId, `m${w}`, [...steps, s]);
          } else if (kind === 1) {
            await post(url, '/runs/log-parameter', { run_id: runId, key: `p${n}`, value: `v${n}` });
            remember(acked.params, runId, `p${n}`, `v${n}`);
          } else if (kind === 2) {
            await post(url, '/runs/set-tag', { run_id: runId, key: `t${n}`, value: `tag-${n}` });
            remember(acked.tags, runId, `t${n}`, `tag-${n}`);
          } else {
            const s = step++;
            await post(url, '/runs/log-batch', {
              run_id: runId,
              metrics: [{ key: `m${w}`, value: s * 0.5, timestamp: Date.now(), step: s }],
              params: [{ key: `bp${n}`, value: `b${n}` }],
              tags: [{ key: `bt${n}`, value: `bt-${n}` }],
            });
            const steps = acked.metrics.get(runId)?.get(`m${w}`) ?? [];
            remember(acked.metrics, runId, `m${w}`, [...steps, s]);
            remember(acked.params, runId, `bp${n}`, `b${n}`);
            remember(acked.tags, runId, `bt${n}`, `bt-${n}`);
          }
        } catch {
          failures++; // the server was killed mid-request: not acknowledged, so no promise made
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };

    const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
    const restarts: number[] = [];
    for (let k = 0; k < KILLS; k++) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 800));
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      const t0 = Date.now();
      server = await startCli(root, 0.05);
      restarts.push(Date.now() - t0);
      const stderr = server.stderr.join('');
      assert.doesNotMatch(stderr, /ERROR/, stderr);
    }
    // A loaded machine acknowledges fewer writes between kills: keep logging (on the restarted
    // server) until enough promises were made to check, rather than checking too few.
    const enough = Date.now() + 60_000;
    do await new Promise((r) => setTimeout(r, 500));
    while (attempts - failures < 800 && Date.now() < enough);
    stop = true;
    await Promise.all(writers);

    // Once more without a clean shutdown, so verification reads a replayed journal.
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));
    server = await startCli(root, 0.05);
    try {
      let checked = 0;
      for (const runId of acked.runs) {
        const run = (await get(server.url, `/runs/get?run_id=${runId}`)).run as {
          data: { params?: { key: string; value: string }[]; tags?: { key: string; value: string }[] };
        };
        const params = new Map((run.data.params ?? []).map((p) => [p.key, p.value]));
        for (const [k, v] of acked.params.get(runId) ?? []) {
          assert.equal(params.get(k), v, `param ${k} of run ${runId}`);
          checked++;
        }
        const tags = new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
        for (const [k, v] of acked.tags.get(runId) ?? []) {
          assert.equal(tags.get(k), v, `tag ${k} of run ${runId}`);
          checked++;
        }
        for (const [key, steps] of acked.metrics.get(runId) ?? []) {
          const history = (await get(server.url, `/metrics/get-history?run_id=${runId}&metric_key=${key}`)).metrics as { step: number; value: number }[];
          const seen = new Set(history.map((m) => m.step));
          for (const s of steps) {
            assert.ok(seen.has(s), `metric ${key} step ${s} of run ${runId}`);
            checked++;
          }
          for (const m of history) assert.equal(m.value, m.step * 0.5);
        }
      }
      assert.ok(checked > 500, `only ${checked} acknowledged writes were made; the test did not exercise much`);
      assert.ok(fs.existsSync(path.join(root, '.runlens', 'store.sqlite')), 'no checkpoint ran, so no kill could land in one');
      assert.ok(failures > 0, 'no request was ever cut off by a kill; the test did not exercise a crash');
      console.log(`      ${checked} acknowledged writes verified after ${KILLS + 1} SIGKILLs (${attempts} attempted, ${failures} cut off); restarts took ${restarts.join('/')} ms`);
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
    }
  });
});
