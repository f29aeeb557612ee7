#!/usr/bin/env node
// The server's own ceiling, without the Python client: autocannon (16 connections) against
// log-batch, single log-metric and a runs search on a running server. Prints JSON.
// Usage: node bench/load.mjs <base-url> <run-id> <experiment-id> [seconds]
import autocannon from 'autocannon';

const [base, runId, experimentId, secondsArg] = process.argv.slice(2);
if (!base || !runId || !experimentId) {
  console.error('usage: node bench/load.mjs <base-url> <run-id> <experiment-id> [seconds]');
  process.exit(2);
}
const duration = Number(secondsArg ?? 10);
const A = '/api/2.0/mlflow';

function bench(title, path, bodyFor) {
  let step = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: base + path,
        method: 'POST',
        connections: 16,
        duration,
        headers: { 'Content-Type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify(bodyFor(step++)) }) }],
      },
      (err, r) => {
        if (err) return reject(err);
        const bad = r.non2xx + r.errors + r.timeouts;
        resolve({ title, requestsPerSec: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, failed: bad, total: r.requests.total });
      },
    );
  });
}

const now = Date.now();
const results = [];
results.push(
  await bench('log-batch, 100 metric points per request', `${A}/runs/log-batch`, (i) => ({
    run_id: runId,
    metrics: Array.from({ length: 100 }, (_, k) => ({ key: `m${k % 10}`, value: k, timestamp: now + i, step: i * 10 + Math.floor(k / 10) })),
  })),
);
results.push(await bench('single log-metric', `${A}/runs/log-metric`, (i) => ({ run_id: runId, key: 'ceiling', value: i, timestamp: now + i, step: i })));
results.push(
  await bench('search: metric filter + order_by metric, 100 results', `${A}/runs/search`, () => ({
    experiment_ids: [experimentId],
    filter: 'metrics.acc > 0.5',
    order_by: ['metrics.acc DESC'],
    max_results: 100,
  })),
);
console.log(JSON.stringify(results));
