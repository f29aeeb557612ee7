/**
 * The backend contract: what every TrackingStore must answer, written against the interface
 * alone and run once per backend. A backend factory says what it can do (capabilities); the
 * read half runs on every backend over the same fixture, the write half only where writes are
 * allowed, and a read-only backend must refuse writes instead.
 */
import * as assert from 'node:assert/strict';
import type { Readable } from 'node:stream';
import type { BackendCapabilities } from '../../../src/backend/api/capabilities';
import type { StoreChange } from '../../../src/backend/api/changes';
import type { TrackingStore } from '../../../src/backend/api/tracking';
import { proxyPath } from '../../../src/domain/artifactUri';
import type { Run } from '../../../src/domain/types';
import { FIXTURE, type ContractFixture } from './fixture';

export interface OpenedBackend {
  store: TrackingStore;
  close(): Promise<void>;
}

export interface BackendFactory {
  name: string;
  capabilities: BackendCapabilities;
  /** A backend holding `fixture` (seeded through the interface, or made by a real client). */
  open(fixture: ContractFixture): Promise<OpenedBackend>;
}

async function text(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString('utf8');
}

export function describeBackendContract(factory: BackendFactory): void {
  describe(`backend contract: ${factory.name}`, () => {
    let backend: OpenedBackend;
    let store: TrackingStore;
    let experimentId: string;
    const runs = new Map<string, Run>();

    before(async () => {
      backend = await factory.open(FIXTURE);
      store = backend.store;
      const exp = await store.getExperimentByName(FIXTURE.experiment);
      assert.ok(exp, `experiment '${FIXTURE.experiment}' is missing`);
      experimentId = exp.experiment_id;
      for (const r of (await store.searchRuns({ experimentIds: [experimentId] })).items) runs.set(r.info.run_name, r);
    });
    after(() => backend.close());

    describe('reads', () => {
      it('reports the capabilities its factory claims', () => {
        assert.deepEqual(store.capabilities, factory.capabilities);
      });

      it('finds the experiment by name and by id', async () => {
        assert.equal((await store.getExperiment(experimentId)).name, FIXTURE.experiment);
        assert.equal(await store.getExperimentByName('no such experiment'), undefined);
      });

      it('holds every run with its params, tags, latest metrics and parent', () => {
        assert.deepEqual([...runs.keys()].sort(), FIXTURE.runs.map((r) => r.name).sort());
        for (const f of FIXTURE.runs) {
          const run = runs.get(f.name)!;
          assert.deepEqual(Object.fromEntries(run.data.params.map((p) => [p.key, p.value])), f.params, f.name);
          const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
          for (const [k, v] of Object.entries(f.tags)) assert.equal(tags[k], v, `${f.name} tag ${k}`);
          if (f.parent) assert.equal(tags['mlflow.parentRunId'], runs.get(f.parent)!.info.run_id);
          const latest = Object.fromEntries(run.data.metrics.map((m) => [m.key, m.value]));
          for (const [k, values] of Object.entries(f.history)) assert.equal(latest[k], values[values.length - 1], `${f.name} ${k}`);
          assert.equal(run.info.status, 'FINISHED');
        }
      });

      it('searches runs with MLflow filters and order_by', async () => {
        const names = async (filter: string, orderBy?: string[]): Promise<string[]> =>
          (await store.searchRuns({ experimentIds: [experimentId], filter, orderBy })).items.map((r) => r.info.run_name);
        assert.deepEqual(await names("params.lr = '0.1'", ['attributes.run_name ASC']), ['fast', 'fast-child']);
        assert.deepEqual(await names('metrics.loss < 0.5', ['metrics.loss DESC']), ['fast-child', 'fast']);
        assert.deepEqual(await names("tags.team = 'nlp'"), ['slow']);
      });

      it('pages a search with page tokens, each run once', async () => {
        const seen: string[] = [];
        let pageToken: string | undefined;
        do {
          const page = await store.searchRuns({ experimentIds: [experimentId], maxResults: 2, pageToken, orderBy: ['attributes.run_name ASC'] });
          seen.push(...page.items.map((r) => r.info.run_name));
          pageToken = page.nextPageToken;
        } while (pageToken);
        assert.deepEqual(seen, ['fast', 'fast-child', 'slow']);
      });

      it('returns a full metric history in step order', async () => {
        const fast = runs.get('fast')!;
        const page = await store.getMetricHistory(fast.info.run_id, 'loss');
        assert.deepEqual(page.items.map((m) => [m.step, m.value, m.timestamp]), FIXTURE.runs[0]!.history.loss!.map((v, step) => [step, v, 1000 + step]));
        const bulk = await store.getMetricHistoryBulkInterval({ runIds: [fast.info.run_id, runs.get('slow')!.info.run_id], metricKey: 'loss', maxResults: 100 });
        assert.equal(bulk.length, 5);
      });

      it('lists and reads a run artifact', async () => {
        // Where the backend serves the run's artifact root (a view serves its store's file:// roots too).
        const uri = runs.get('fast')!.info.artifact_uri;
        const root = (store.artifacts.locate ? store.artifacts.locate(uri) : proxyPath(uri))!;
        assert.ok(root !== undefined, `the backend does not serve ${uri}`);
        assert.deepEqual((await store.artifacts.list(root)).map((f) => f.path), ['notes.txt']);
        const file = await store.artifacts.read(`${root}/notes.txt`);
        assert.equal(await text(file.stream), FIXTURE.runs[0]!.artifacts!['notes.txt']);
        assert.deepEqual(await store.artifacts.inspect(`${root}/missing.txt`), { kind: 'missing' });
      });

      it('holds the registered model, its version from the run, and its alias', async () => {
        const model = await store.registry.getRegisteredModel(FIXTURE.model.name);
        assert.deepEqual(model.aliases.map((a) => a.alias), [FIXTURE.model.alias]);
        const version = await store.registry.getVersionByAlias(FIXTURE.model.name, FIXTURE.model.alias);
        assert.equal(version.run_id, runs.get(FIXTURE.model.versionFrom)!.info.run_id);
        const found = await store.registry.searchModelVersions({ filter: `name = '${FIXTURE.model.name}'` });
        assert.deepEqual(found.items.map((v) => v.version), [version.version]);
      });

      it('holds the trace with its spans', async () => {
        const page = await store.traces.search({ experimentIds: [experimentId] });
        assert.deepEqual(page.items.map((t) => t.trace_id), [FIXTURE.trace.id]);
        assert.equal((await store.traces.get(FIXTURE.trace.id)).state, 'OK');
        assert.deepEqual((await store.traces.readSpans(FIXTURE.trace.id)).map((s) => s.name), FIXTURE.trace.spanNames);
        await assert.rejects(store.traces.get('tr-does-not-exist'), /not found/);
      });
    });

    describe('writes', function () {
      before(function () {
        if (factory.capabilities.readOnly) this.skip();
      });

      it('tells subscribers about a new run and its tag, and shows both', async () => {
        const changes: StoreChange[] = [];
        const stop = store.onDidChange((c) => changes.push(c));
        try {
          const run = await store.createRun({ experimentId, runName: 'written' });
          await store.setTag(run.info.run_id, { key: 'stage', value: 'contract' });
          const read = await store.getRun(run.info.run_id);
          assert.equal(read.data.tags.find((t) => t.key === 'stage')?.value, 'contract');
          assert.ok(changes.some((c) => c.kind === 'run' && c.runId === run.info.run_id && c.created === true));
        } finally {
          stop();
        }
      });

      it('hides a deleted run from active searches and shows it again when restored', async () => {
        const run = await store.createRun({ experimentId, runName: 'to-delete' });
        const active = async (): Promise<boolean> => (await store.searchRuns({ experimentIds: [experimentId], filter: "attributes.run_name = 'to-delete'" })).items.length === 1;
        await store.deleteRun(run.info.run_id);
        assert.equal((await store.getRun(run.info.run_id)).info.lifecycle_stage, 'deleted');
        assert.equal(await active(), false);
        await store.restoreRun(run.info.run_id);
        assert.equal(await active(), true);
      });
    });

    describe('read-only', function () {
      before(function () {
        if (!factory.capabilities.readOnly) this.skip();
      });

      it('refuses writes, leaving the store as it was', async () => {
        await assert.rejects(store.createExperiment('refused'));
        await assert.rejects(store.setTag(runs.get('fast')!.info.run_id, { key: 'x', value: 'y' }));
        assert.equal(await store.getExperimentByName('refused'), undefined);
      });
    });
  });
}
