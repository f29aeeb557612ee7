import * as assert from 'node:assert/strict';
import { formatField } from '../../src/ui/modelFormat';
import { parseSignature, readMlmodel } from '../../src/ui/modelSignature';
import { sourceArtifactPath, sourceModelId } from '../../src/ui/modelViews';

describe('model signatures and MLmodel files', () => {
  it('reads column-based schemas with their types, nested types and optional columns', () => {
    const sig = parseSignature({
      inputs: JSON.stringify([
        { type: 'double', name: 'x', required: true },
        { type: 'array', items: { type: 'long' }, name: 'ids', required: false },
        { type: 'object', properties: { a: { type: 'string' }, b: { type: 'map', values: { type: 'double' } } }, name: 'meta' },
      ]),
      outputs: '[{"type": "long", "required": true}]',
      params: '[{"name": "temperature", "type": "double", "default": 0.5, "shape": null}]',
    });
    assert.deepEqual(sig?.inputs?.map(formatField), ['x: double', 'ids: array<long> (optional)', 'meta: object<a: string, b: map<string, double>>']);
    assert.deepEqual(sig?.outputs?.map(formatField), ['long']);
    assert.deepEqual(sig?.params?.map(formatField), ['temperature: double = 0.5']);
  });

  it('reads tensor specs as dtype and shape, not "tensor"', () => {
    const sig = parseSignature({ inputs: '[{"type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 4]}}]', outputs: '[{"name": "y", "type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]' });
    assert.deepEqual(sig?.inputs, [{ type: 'float64', shape: [-1, 4], tensor: true, required: true }]);
    assert.deepEqual(sig?.outputs?.map(formatField), ['y: int64 (-1,)']);
  });

  it('reads flavors, the input example and the ids from an MLmodel; no signature when it is absent or damaged', () => {
    const info = readMlmodel(
      'flavors:\n  python_function: {loader_module: mlflow.sklearn}\n  sklearn: {sklearn_version: 1.9.1}\nmodel_id: m-1\nrun_id: r1\nmodel_size_bytes: 10\nsaved_input_example_info:\n  artifact_path: input_example.json\n  type: dataframe\nsignature:\n  inputs: \'[{"type": "double", "name": "x"}]\'\n',
    );
    assert.deepEqual(info.flavors, ['python_function', 'sklearn']);
    assert.deepEqual(info.inputExample, { path: 'input_example.json', type: 'dataframe' });
    assert.equal(info.modelId, 'm-1');
    assert.equal(info.sizeBytes, 10);
    assert.equal(info.signature?.inputs?.[0]?.type, 'double');
    assert.equal(readMlmodel('flavors: {}\nsignature: {inputs: "not json"}\n').signature, undefined);
    assert.throws(() => readMlmodel('- a list'), /not a YAML mapping/);
  });

  it("matches a version's source to the run's model folder or logged model", () => {
    assert.equal(sourceArtifactPath('runs:/abc/model', 'abc'), 'model');
    assert.equal(sourceArtifactPath('runs:/other/model', 'abc'), undefined);
    assert.equal(sourceArtifactPath('mlflow-artifacts:/1/abc/artifacts/sk/model/', 'abc'), 'sk/model');
    assert.equal(sourceModelId('models:/m-0123abcd'), 'm-0123abcd');
    assert.equal(sourceModelId('models:/iris/1'), undefined);
  });
});
