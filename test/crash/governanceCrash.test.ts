/**
 * The audit trail survives crashes like journaled writes: clients log to a governed `runlens
 * serve` while it is killed with SIGKILL and restarted. Afterwards the chain verifies, every write
 * a client saw acknowledged has its `ok` entry, and the ledger rebuilt from the trail charges
 * each run at least for those writes. A write cut off by a kill may have left an entry of its own
 * (audited as it is applied), never fewer than were acknowledged.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { startCli, type CliServer } from '../support/cliServer';
import { tempRoot } from '../unit/helpers';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');
const A = '/api/2.0/mlflow';
const TRACK_USD = 0.0001;

async function call(url: string, method: 'GET' | 'POST', route: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${route}`, { method, headers: { 'Content-Type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const json = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${route} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

interface Entry {
  op: string;
  outcome: string;
  target: { run_id?: string };
  reverses?: number;
}

describe('crash safety: SIGKILL while a governed server audits', function () {
  this.timeout(240_000);

  it('keeps an intact chain with an entry for every acknowledged write, and the ledger charges them', async () => {
    assert.ok(fs.existsSync(CLI), `build the CLI first (${CLI})`);
    const root = tempRoot('runlens-gov-crash-');
    const cfg = path.join(root, '..', `${path.basename(root)}-governance.yaml`);
    fs.writeFileSync(cfg, 'defaults: {team: crash}\n');
    const start = (): Promise<CliServer> => startCli(root, 0.05, ['--governance', cfg]);
    let server = await start();
    /** run → acknowledged writes (create included). */
    const acked = new Map<string, number>();
    let stop = false;
    let cutOff = 0;
    const writer = async (w: number): Promise<void> => {
      let runId: string | undefined;
      let n = 0;
      while (!stop) {
        n++;
        try {
          if (!runId || n % 150 === 0) {
            const created = await call(server.url, 'POST', `${A}/runs/create`, { experiment_id: '0', run_name: `w${w}-${n}`, start_time: Date.now() });
            runId = (created.run as { info: { run_id: string } }).info.run_id;
            acked.set(runId, 1);
            continue;
          }
          if (n % 3 === 0) await call(server.url, 'POST', `${A}/runs/set-tag`, { run_id: runId, key: `t${n}`, value: 'x' });
          else if (n % 3 === 1) await call(server.url, 'POST', `${A}/runs/log-metric`, { run_id: runId, key: 'm', value: n, timestamp: Date.now(), step: n });
          else await call(server.url, 'POST', `${A}/runs/log-batch`, { run_id: runId, metrics: [{ key: 'b', value: n, timestamp: Date.now(), step: n }], params: [{ key: `p${n}`, value: 'v' }] });
          acked.set(runId, (acked.get(runId) ?? 0) + 1);
        } catch {
          cutOff++; // killed mid-request: not acknowledged, no promise made
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    };
    const writers = Array.from({ length: 4 }, (_, w) => writer(w));
    for (let k = 0; k < 4; k++) {
      await new Promise((r) => setTimeout(r, 400 + Math.random() * 600));
      server.child.kill('SIGKILL');
      await new Promise((r) => server.child.once('exit', r));
      server = await start();
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(writers);
    server.child.kill('SIGKILL');
    await new Promise((r) => server.child.once('exit', r));

    const verify = spawnSync(process.execPath, [CLI, 'audit', 'verify', '--root', root], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    assert.match(verify.stdout, /audit trail intact/);

    server = await start();
    try {
      const entries = (await call(server.url, 'GET', '/runlens/api/governance/audit?limit=10000')).entries as Entry[];
      const okByRun = new Map<string, number>();
      for (const e of entries) {
        const run = e.target.run_id;
        if (!run) continue;
        if (e.outcome === 'ok') okByRun.set(run, (okByRun.get(run) ?? 0) + 1);
        if (e.reverses !== undefined) okByRun.set(run, (okByRun.get(run) ?? 0) - 1);
      }
      let checked = 0;
      for (const [run, writes] of acked) {
        assert.ok((okByRun.get(run) ?? 0) >= writes, `run ${run}: ${writes} writes acknowledged, ${okByRun.get(run) ?? 0} audited`);
        const cost = (await call(server.url, 'GET', `/runlens/api/governance/run-cost?run_id=${run}`)).cost_usd as number;
        assert.ok(cost >= writes * TRACK_USD - 1e-12, `run ${run}: charged $${cost} for ${writes} acknowledged writes`);
        checked += writes;
      }
      assert.ok(checked > 200, `only ${checked} acknowledged writes; the test did not exercise much`);
      assert.ok(cutOff > 0, 'no request was cut off by a kill');
      console.log(`      ${checked} acknowledged writes audited and charged after 5 SIGKILLs (${cutOff} cut off, ${entries.length} entries)`);
    } finally {
      server.child.kill('SIGTERM');
      await new Promise((r) => server.child.once('exit', r));
      fs.rmSync(cfg, { force: true });
    }
  });
});
