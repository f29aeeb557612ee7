#!/usr/bin/env node
// Seeds runs [start, end) into one experiment through the MLflow REST API (runs/create, then one
// runs/log-batch), 16 requests in flight: the path any client has. Used for the servers that have
// no bulk-SQL path here (Runlens, FastTrackML); the rows match seed_row() in bench/sbs/seed.py, so
// every server holds the same data. A Node client keeps the seeding server-bound: the Python
// client costs ~1 ms of CPU per request on this 2-core machine.
// Usage: node bench/seed-rest.mjs <base-url> <experiment-id> <start> <end> <now-ms>
import * as http from 'node:http';

const [base, experimentId, startArg, endArg, nowArg] = process.argv.slice(2);
if (!base || !experimentId || !startArg || !endArg || !nowArg) {
  console.error('usage: node bench/seed-rest.mjs <base-url> <experiment-id> <start> <end> <now-ms>');
  process.exit(2);
}
const url = new URL(base);
const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const now = Number(nowArg);
const MODELS = ['cnn', 'mlp', 'rnn', 'vit'];
const LRS = ['0.1', '0.01', '0.001'];

function post(route, body) {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, path: `/api/2.0/mlflow/${route}`, method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          if (res.statusCode !== 200) reject(new Error(`${route} → ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve(text ? JSON.parse(text) : {});
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function one(i) {
  // Timestamps are never 0: FastTrackML refuses timestamp 0 as "missing".
  const acc = ((i * 7919) % 10007) / 10007;
  const loss = ((i * 104729) % 10007) / 10007;
  const created = await post('runs/create', { experiment_id: experimentId, run_name: `run-${i}`, start_time: now + i });
  await post('runs/log-batch', {
    run_id: created.run.info.run_id,
    metrics: [
      { key: 'acc', value: acc, timestamp: now, step: 0 },
      { key: 'loss', value: loss, timestamp: now, step: 0 },
    ],
    params: [
      { key: 'model', value: MODELS[i % 4] },
      { key: 'lr', value: LRS[i % 3] },
    ],
    tags: [{ key: 'team', value: i % 2 ? 'a' : 'b' }],
  });
}

const start = Number(startArg);
const end = Number(endArg);
let next = start;
await Promise.all(
  Array.from({ length: 16 }, async () => {
    while (next < end) await one(next++);
  }),
);
agent.destroy();
