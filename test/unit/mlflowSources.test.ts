import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FileStoreSource } from '../../src/backend/filestore/fileStoreSource';
import { parseMetaYaml } from '../../src/backend/filestore/fsFiles';
import { latestOf, parseMetricLine, parsePyFloat } from '../../src/backend/filestore/fsTracking';
import { readDbImage } from '../../src/backend/mlflowdb/dbImage';
import { resolveArtifactDir } from '../../src/backend/transfer/artifactDirs';
import { detectMlflowStore, openMlflowSource } from '../../src/backend/transfer/detect';
import { parseSpanJson } from '../../src/backend/transfer/traceArtifacts';
import { loadSqlJs } from '../../src/store/sqlite';
import type { Metric } from '../../src/domain/types';
import { openStore, tempRoot } from './helpers';

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

async function sqliteFile(file: string): Promise<void> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  db.run('CREATE TABLE t (x INTEGER)');
  write(file, '');
  fs.writeFileSync(file, db.export());
  db.close();
}

describe('MLflow file store YAML (what PyYAML safe_dump writes)', () => {
  it('reads quoted ids, folded long strings, nulls, nested maps and empty collections', () => {
    const meta = parseMetaYaml(
      [
        "artifact_location: /tmp/mlruns/232678398440538832",
        'creation_time: 1796167870325',
        "experiment_id: '232678398440538832'",
        "name: it's",
        "quoted: 'it''s ''quoted'''",
        'empty: null',
        'tags: []',
        'aliases: {}',
        'lifecycle_stage: active',
        'yes_string: \'yes\'',
        'flag: true',
        "schema: '{\"mlflow_colspec\": [{\"type\": \"double\", \"name\": \"x\", \"required\": true}, {\"type\":",
        "  \"long\", \"name\": \"y\", \"required\": true}]}'",
        'trace_location:',
        '  mlflow_experiment:',
        "    experiment_id: '7'",
        '  type: MLFLOW_EXPERIMENT',
        'tags_map:',
        '  mlflow.data.context: training',
        '',
      ].join('\n'),
    );
    assert.equal(meta.experiment_id, '232678398440538832');
    assert.equal(meta.creation_time, 1796167870325);
    assert.equal(meta.name, "it's");
    assert.equal(meta.quoted, "it's 'quoted'");
    assert.equal(meta.empty, null);
    assert.deepEqual(meta.tags, []);
    assert.deepEqual(meta.aliases, {});
    assert.equal(meta.yes_string, 'yes');
    assert.equal(meta.flag, true);
    assert.equal(meta.schema, '{"mlflow_colspec": [{"type": "double", "name": "x", "required": true}, {"type": "long", "name": "y", "required": true}]}');
    assert.deepEqual(meta.trace_location, { mlflow_experiment: { experiment_id: '7' }, type: 'MLFLOW_EXPERIMENT' });
    assert.deepEqual(meta.tags_map, { 'mlflow.data.context': 'training' });
  });

  it('reads an empty or non-map file as no fields', () => {
    assert.deepEqual(parseMetaYaml(''), {});
    assert.deepEqual(parseMetaYaml('- a\n- b\n'), {});
  });
});

describe('file store metric lines', () => {
  it('parses 2-, 3- and 5-field lines as MLflow does, with Python float spellings', () => {
    assert.deepEqual(parseMetricLine('m', '1700000000000 0.5'), { key: 'm', timestamp: 1700000000000, value: 0.5, step: 0 });
    assert.deepEqual(parseMetricLine('m', '1700000000000 0.5 7\n'), { key: 'm', timestamp: 1700000000000, value: 0.5, step: 7 });
    // MLflow's reader takes the step only from 3-field lines.
    assert.equal(parseMetricLine('m', '1 2 3 train abc').step, 0);
    assert.ok(Number.isNaN(parseMetricLine('m', '1 nan 0').value));
    assert.equal(parseMetricLine('m', '1 -inf 0').value, -Infinity);
    assert.equal(parsePyFloat('Infinity'), Infinity);
    assert.equal(parsePyFloat('1e-05'), 1e-5);
    assert.throws(() => parseMetricLine('m', '1 2 3 4'), /malformed/);
    assert.throws(() => parsePyFloat('abc'), /could not convert/);
  });

  it('picks the latest by (step, timestamp, value), where a NaN value never wins a tie', () => {
    const m = (step: number, timestamp: number, value: number): Metric => ({ key: 'k', step, timestamp, value });
    assert.deepEqual(latestOf([m(0, 5, 1), m(1, 1, 0), m(1, 0, 9)]), m(1, 1, 0));
    assert.deepEqual(latestOf([m(0, 1, 2), m(0, 1, 3)]), m(0, 1, 3));
    assert.deepEqual(latestOf([m(0, 1, 2), m(0, 1, NaN)]), m(0, 1, 2));
    assert.ok(Number.isNaN(latestOf([m(0, 1, NaN), m(0, 1, 2)])!.value));
    assert.equal(latestOf([]), undefined);
  });
});

describe('artifact URI resolution', () => {
  const roots = { baseDir: '/work/proj', artifactsDestination: '/work/proj/mlartifacts' };
  const dir = (uri: string): string | undefined => resolveArtifactDir(uri, roots).dir;

  it('maps mlflow-artifacts: through the artifacts destination, with or without the serving host', () => {
    assert.equal(dir('mlflow-artifacts:/1/abc/artifacts'), '/work/proj/mlartifacts/1/abc/artifacts');
    assert.equal(dir('mlflow-artifacts://localhost:5000/1/abc/artifacts'), '/work/proj/mlartifacts/1/abc/artifacts');
    assert.equal(dir('mlflow-artifacts:/a%20b/c'), '/work/proj/mlartifacts/a b/c');
  });

  it('reads local file URIs and paths, relative ones against where MLflow ran', () => {
    assert.equal(dir('file:///tmp/x%20y/artifacts'), '/tmp/x y/artifacts');
    assert.equal(dir('file://localhost/tmp/x'), '/tmp/x');
    assert.equal(dir('file:/tmp/x'), '/tmp/x');
    assert.equal(dir('file:rel/dir'), '/work/proj/rel/dir');
    assert.equal(dir('./mlartifacts/1/abc/artifacts'), '/work/proj/mlartifacts/1/abc/artifacts');
    assert.equal(dir('mlruns/0/abc/artifacts'), '/work/proj/mlruns/0/abc/artifacts');
    assert.equal(dir('/abs/mlruns/0'), '/abs/mlruns/0');
  });

  it('leaves remote and unresolvable URIs without a directory, keeping the URI', () => {
    for (const uri of ['s3://bucket/key', 'gs://b/k', 'dbfs:/databricks/mlflow', 'runs:/abc/model', 'https://h/x', 'file://otherhost/x', '']) {
      assert.deepEqual(resolveArtifactDir(uri, roots), { uri, dir: undefined }, uri);
    }
    if (process.platform !== 'win32') assert.equal(dir('C:\\mlruns\\0'), undefined);
  });
});

describe('span JSON', () => {
  it('keeps nanosecond times past 2^53 exact', () => {
    const parsed = parseSpanJson('{"spans": [{"start_time_unix_nano": 1796167867612204417, "end_time_unix_nano": 1796167867612555797, "x": 1796167867612204417}]}') as {
      spans: Record<string, unknown>[];
    };
    assert.equal(parsed.spans[0]!.start_time_unix_nano, '1796167867612204417');
    assert.equal(parsed.spans[0]!.end_time_unix_nano, '1796167867612555797');
    assert.equal(typeof parsed.spans[0]!.x, 'number');
  });
});

describe('detectMlflowStore', () => {
  it('knows an SQLite file, a file store by experiment folders or registry, and nothing else', async () => {
    const root = tempRoot('runlens-detect-');
    await sqliteFile(path.join(root, 'mlflow.db'));
    assert.equal(detectMlflowStore(path.join(root, 'mlflow.db')), 'mlflow.db');
    write(path.join(root, 'notes.txt'), 'SQLite format 2');
    assert.equal(detectMlflowStore(path.join(root, 'notes.txt')), undefined);
    assert.equal(detectMlflowStore(path.join(root, 'missing')), undefined);

    const byExperiment = path.join(root, 'a');
    write(path.join(byExperiment, '0', 'meta.yaml'), "experiment_id: '0'\nname: Default\n");
    assert.equal(detectMlflowStore(byExperiment), 'mlruns');

    const byRegistry = path.join(root, 'b');
    write(path.join(byRegistry, 'models', 'm', 'meta.yaml'), 'name: m\n');
    assert.equal(detectMlflowStore(byRegistry), 'mlruns');

    const onlyTrash = path.join(root, 'c');
    write(path.join(onlyTrash, '.trash', '12', 'meta.yaml'), "experiment_id: '12'\n");
    assert.equal(detectMlflowStore(onlyTrash), 'mlruns');

    const marked = path.join(root, 'd');
    write(path.join(marked, '0', 'meta.yaml'), "experiment_id: '0'\n");
    fs.mkdirSync(path.join(marked, '.runlens'));
    assert.equal(detectMlflowStore(marked), undefined, 'a Runlens store root is never MLflow’s');

    const stray = path.join(root, 'e');
    write(path.join(stray, '0', 'meta.yaml'), 'something: else\n');
    write(path.join(stray, 'models', 'readme.txt'), 'x');
    assert.equal(detectMlflowStore(stray), undefined);
    await assert.rejects(openMlflowSource(stray), /neither an mlflow.db nor a legacy MLflow file store/);
  });

  it('never takes a real Runlens store for a file store', async () => {
    const root = path.join(tempRoot('runlens-detect-'), 'mlruns');
    const store = await openStore(root);
    await store.close();
    assert.equal(detectMlflowStore(root), undefined);
  });
});

describe('mlflow.db image', () => {
  it('refuses a database whose rollback journal is hot, and ignores a zeroed one', async function () {
    this.timeout(15_000);
    const root = tempRoot('runlens-dbimage-');
    const db = path.join(root, 'mlflow.db');
    await sqliteFile(db);
    write(`${db}-journal`, Buffer.alloc(512).toString('latin1'));
    assert.ok((await readDbImage(db)).bytes.length > 0);
    fs.writeFileSync(`${db}-journal`, Buffer.concat([Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]), Buffer.alloc(504)]));
    await assert.rejects(readDbImage(db), /hot journal/);
  });

  it('says what is wrong with an SQLite file that is not an MLflow store', async () => {
    const root = tempRoot('runlens-dbimage-');
    await sqliteFile(path.join(root, 'other.db'));
    await assert.rejects(openMlflowSource(path.join(root, 'other.db')), /not an MLflow tracking store/);
  });
});

describe('FileStoreSource on a hand-written store', () => {
  it('reads runs named only by tag, nested keys, int statuses, and deleted experiments from .trash', async () => {
    const root = path.join(tempRoot('runlens-fs-'), 'mlruns');
    write(path.join(root, '0', 'meta.yaml'), "artifact_location: ./mlruns/0\ncreation_time: 1\nexperiment_id: '0'\nlast_update_time: 2\nlifecycle_stage: active\nname: Default\n");
    const run = path.join(root, '0', 'r1');
    write(path.join(run, 'meta.yaml'), "artifact_uri: ./mlruns/0/r1/artifacts\nend_time: null\nexperiment_id: '0'\nlifecycle_stage: active\nrun_id: r1\nrun_name: ''\nstart_time: 10\nstatus: 4\nuser_id: me\n");
    write(path.join(run, 'tags', 'mlflow.runName'), 'from-tag');
    write(path.join(run, 'params', 'group', 'lr'), '0.1\n');
    write(path.join(run, 'metrics', 'eval', 'loss'), '5 nan 0\n6 0.25 1\n');
    write(path.join(run, 'artifacts', 'a.txt'), 'a');
    write(path.join(root, '.trash', '9', 'meta.yaml'), "artifact_location: /x/9\nexperiment_id: '9'\nlifecycle_stage: deleted\nname: gone\n");
    write(path.join(root, '.trash', '9', 'tags', 'k'), 'v');

    const source = await openMlflowSource(root);
    assert.equal(source.kind, 'mlruns');
    const exps = await collect(source.experiments());
    assert.deepEqual(
      exps.map((e) => [e.experiment_id, e.lifecycle_stage, e.tags]),
      [
        ['0', 'active', []],
        ['9', 'deleted', [{ key: 'k', value: 'v' }]],
      ],
    );
    const [r] = await collect(source.runs('0'));
    assert.equal(r!.info.run_name, 'from-tag');
    assert.equal(r!.info.status, 'FAILED');
    assert.equal(r!.info.end_time, null);
    assert.deepEqual(r!.data.params, [{ key: 'group/lr', value: '0.1\n' }]);
    assert.deepEqual(r!.data.metrics, [{ key: 'eval/loss', timestamp: 6, value: 0.25, step: 1 }]);
    const history = (await collect(source.metricHistory('r1'))).flat();
    assert.equal(history.length, 2);
    assert.ok(Number.isNaN(history[0]!.value));
    assert.deepEqual(source.runArtifacts(r!), { uri: './mlruns/0/r1/artifacts', dir: path.join(path.dirname(root), 'mlruns/0/r1/artifacts') });
    assert.ok(source instanceof FileStoreSource);
    assert.deepEqual(await collect(source.registeredModels()), []);
    assert.deepEqual(await collect(source.traces('0')), []);
    await source.close();
  });
});

describe('SqliteFile (paged reader of large mlflow.db files)', () => {
  it('reads rows as SQLite stores them: overflow pages, rowid aliases, added and generated columns, index seeks', async () => {
    const SQL = await loadSqlJs();
    const mem = new SQL.Database();
    mem.run(`CREATE TABLE t (id INTEGER PRIMARY KEY, run TEXT NOT NULL, v REAL, big TEXT, g INTEGER GENERATED ALWAYS AS (id * 2) STORED)`);
    mem.run('CREATE INDEX t_run ON t (run, v)');
    const stmt = mem.prepare('INSERT INTO t (run, v, big) VALUES (?, ?, ?)');
    for (let i = 0; i < 3000; i++) stmt.run([`run-${i % 7}`, i / 3, i % 500 === 0 ? 'x'.repeat(20_000 + i) : `s${i}`]);
    stmt.free();
    mem.run("ALTER TABLE t ADD COLUMN later TEXT DEFAULT 'd'");
    mem.run("INSERT INTO t (run, v, big, later) VALUES ('run-1', -1, 'é ünïcode', 'set')");
    const file = path.join(tempRoot('runlens-sqlitefile-'), 'x.db');
    fs.writeFileSync(file, mem.export());

    const { SqliteFile } = await import('../../src/backend/mlflowdb/sqliteFile');
    const f = SqliteFile.open(file);
    try {
      const schema = f.schema();
      const table = schema.find((r) => r.name === 't')!;
      const index = schema.find((r) => r.name === 't_run')!;
      const rows = [...f.scanTable(table.rootPage)];
      const expected = mem.exec('SELECT id, run, v, big, g FROM t ORDER BY id')[0]!.values;
      assert.equal(rows.length, expected.length);
      for (let i = 0; i < rows.length; i++) {
        const [rowid, v] = rows[i]!;
        assert.equal(rowid, expected[i]![0]);
        // The rowid alias is stored as NULL; records written before ADD COLUMN are one value short.
        assert.deepEqual([rowid, v[1], v[2], v[3], v[4]], expected[i], `row ${rowid}`);
      }
      assert.equal(rows.at(-1)![1][5], 'set');
      assert.equal(rows[0]![1].length, 5);
      const ids = f.indexEquals(index.rootPage, 'run-1');
      assert.deepEqual(ids.sort((a, b) => a - b), mem.exec("SELECT id FROM t WHERE run = 'run-1' ORDER BY id")[0]!.values.map((r) => r[0]));
      assert.deepEqual(f.indexEquals(index.rootPage, 'run-9'), []);
      for (const id of [1, 501, 1501, 3001]) assert.equal(f.row(table.rootPage, id)![3], mem.exec(`SELECT big FROM t WHERE id = ${id}`)[0]!.values[0]![0]);
      assert.equal(f.row(table.rootPage, 99_999), undefined);
    } finally {
      f.close();
      mem.close();
    }
  });
});
