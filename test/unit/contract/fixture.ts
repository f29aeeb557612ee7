/**
 * The data every backend of the contract suite holds: described once, so a writable backend
 * seeds it through the TrackingStore interface (seedThroughInterface) and a read-only one (an
 * existing mlflow.db or mlruns/) is given a store a real client wrote with the same content.
 * Entities are found by name, never by generated id, so any backend can answer.
 */
import { Readable } from 'node:stream';
import type { TrackingStore } from '../../../src/backend/api/tracking';
import { proxyPath } from '../../../src/domain/artifactUri';

export interface FixtureRun {
  name: string;
  parent?: string;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** metric key → values at steps 0, 1, 2, … (timestamps 1000 + step). */
  history: Record<string, number[]>;
  artifacts?: Record<string, string>;
}

export interface ContractFixture {
  experiment: string;
  runs: FixtureRun[];
  model: { name: string; versionFrom: string; alias: string };
  trace: { id: string; spanNames: string[] };
}

export const FIXTURE: ContractFixture = {
  experiment: 'contract-suite',
  runs: [
    { name: 'fast', params: { lr: '0.1', optimizer: 'adam' }, tags: { team: 'vision' }, history: { loss: [0.9, 0.5, 0.3], acc: [0.5, 0.7, 0.8] }, artifacts: { 'notes.txt': 'fast run\n' } },
    { name: 'slow', params: { lr: '0.01', optimizer: 'sgd' }, tags: { team: 'nlp' }, history: { loss: [0.8, 0.6] } },
    { name: 'fast-child', parent: 'fast', params: { lr: '0.1' }, tags: {}, history: { loss: [0.4] } },
  ],
  model: { name: 'contract-model', versionFrom: 'fast', alias: 'champion' },
  trace: { id: `tr-${'c0ffee'.repeat(5)}ab`, spanNames: ['root', 'child'] },
};

function spanId(n: number): string {
  return Buffer.from(n.toString(16).padStart(16, '0'), 'hex').toString('base64');
}

/** traces.json as the Python client uploads it (v3 span dicts, base64 ids). */
export function tracesJson(f: ContractFixture): Buffer {
  const traceId = Buffer.from(f.trace.id.slice(3), 'hex').toString('base64');
  const spans = f.trace.spanNames.map((name, i) => ({
    trace_id: traceId,
    span_id: spanId(i + 1),
    parent_span_id: i === 0 ? null : spanId(1),
    name,
    start_time_unix_nano: String(1_700_000_000_000_000_000n + BigInt(i) * 1000n),
    end_time_unix_nano: String(1_700_000_000_000_000_000n + 10_000n),
    attributes: { 'mlflow.spanType': JSON.stringify(i === 0 ? 'CHAIN' : 'LLM') },
    status: { code: 'STATUS_CODE_OK', message: '' },
    events: [],
  }));
  return Buffer.from(JSON.stringify({ spans }));
}

/** Writes the fixture through the interface alone (what any writable backend must accept). */
export async function seedThroughInterface(store: TrackingStore, f: ContractFixture): Promise<void> {
  const experimentId = await store.createExperiment(f.experiment);
  const ids = new Map<string, string>();
  for (const r of f.runs) {
    const tags = Object.entries(r.tags).map(([key, value]) => ({ key, value }));
    if (r.parent) tags.push({ key: 'mlflow.parentRunId', value: ids.get(r.parent)! });
    const run = await store.createRun({ experimentId, runName: r.name, startTime: 1000, tags });
    ids.set(r.name, run.info.run_id);
    const metrics = Object.entries(r.history).flatMap(([key, values]) => values.map((value, step) => ({ key, value, timestamp: 1000 + step, step })));
    await store.logBatch(run.info.run_id, { metrics, params: Object.entries(r.params).map(([key, value]) => ({ key, value })) });
    for (const [rel, text] of Object.entries(r.artifacts ?? {})) {
      await store.artifacts.write(`${proxyPath(run.info.artifact_uri)}/${rel}`, Readable.from([Buffer.from(text)]));
    }
    await store.updateRun(run.info.run_id, { status: 'FINISHED', endTime: 2000 });
  }
  const from = await store.getRun(ids.get(f.model.versionFrom)!);
  await store.registry.createRegisteredModel(f.model.name, []);
  const version = await store.registry.createModelVersion({ name: f.model.name, source: `${from.info.artifact_uri}/model`, runId: from.info.run_id, tags: [] });
  await store.registry.setAlias(f.model.name, f.model.alias, version.version);
  await store.traces.start({ traceId: f.trace.id, experimentId, requestTimeMs: 1_700_000_000_000, durationMs: 10, state: 'OK', metadata: {}, tags: {}, assessments: [] });
  await store.traces.acceptTracesJson(f.trace.id, tracesJson(f));
}
