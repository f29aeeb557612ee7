import * as assert from 'node:assert/strict';
import { decodeOtlpJson } from '../../src/server/otlp/otlpDecode';
import { openStore, tempRoot } from './helpers';

const HEX = 'b'.repeat(32);
const otlp = (): Buffer =>
  Buffer.from(
    JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: HEX, spanId: '1'.repeat(16), name: 'root', startTimeUnixNano: '1000000', endTimeUnixNano: '2000000' }] }] }],
    }),
  );

// As MLflow's server (checked against `mlflow server`): link-to-run looks up neither the traces
// nor the run, so a trace linked while it is still being exported belongs to the run once it arrives.
describe('linking traces to runs', () => {
  it('keeps a link made before the trace exists, applies it when the trace arrives, and replays it', async () => {
    const root = tempRoot();
    let store = await openStore(root);
    const exp = await store.createExperiment('links');
    const run = (await store.createRun({ experimentId: exp })).info.run_id;
    await store.traces.linkToRun([`tr-${HEX}`], run);
    await store.traces.linkToRun(['tr-' + 'c'.repeat(32)], 'f'.repeat(32));
    const linked = async (): Promise<string[]> => (await store.traces.search({ experimentIds: [exp], filter: `run_id = '${run}'` })).items.map((t) => t.trace_id);
    assert.deepEqual(await linked(), []);
    await store.close({ checkpoint: false });
    store = await openStore(root);
    await store.traces.ingest(exp, decodeOtlpJson(otlp()));
    assert.deepEqual(await linked(), [`tr-${HEX}`]);
    await store.close({ checkpoint: false });
    store = await openStore(root);
    assert.deepEqual(await linked(), [`tr-${HEX}`], 'replayed from the journal');
    await store.close();
  });
});
