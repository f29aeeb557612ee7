// The language server as the editor runs it: `node dist/languageServer.js --stdio`, LSP over a
// child process's pipes, against a `runlens serve` store seeded by the real mlflow client.
// A sample analysis.py gets diagnostics, completions and hovers from the keys that exist.
import * as assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-jsonrpc/node';
import { runlensServe, type ServeProcess } from '../support/runlensServe';

const ROOT = path.resolve(__dirname, '../../..');
const SERVER = path.join(ROOT, 'dist/languageServer.js');
const PYTHON = process.env.RUNLENS_TEST_PYTHON ?? path.join(ROOT, '.venv/latest/bin/python');

// Experiment "lsp" (id 1) holds the four runs most tests read; "other" (id 2) has different
// keys, so a search naming it is checked against its keys only. The lsp runs are the newest.
const SEED = `
import mlflow
mlflow.set_experiment("lsp")
mlflow.set_experiment("other")
for i in range(2):
    with mlflow.start_run(run_name=f"other-{i}"):
        mlflow.log_param("depth", str(3 + i))
        mlflow.log_metric("f1", 0.5 + i * 0.1)
        mlflow.log_text("x" * (10 + i), "notes/readme.md")
mlflow.set_experiment("lsp")
for i, (model, lr) in enumerate([("rf", "0.1"), ("rf", "0.01"), ("gbm", "0.1"), ("gbm", "0.3")]):
    with mlflow.start_run(run_name=f"run-{i}"):
        mlflow.log_params({"model": model, "lr": lr})
        mlflow.set_tag("team", "vision")
        mlflow.log_metric("accuracy", 0.7 + i * 0.05)
        mlflow.log_metric("val_accuracy", 0.6 + i * 0.05)
        if i < 2:
            mlflow.log_metric("val loss", 1.0 - i * 0.1)
            mlflow.log_text("hello", "reports/summary.txt")
`;

interface Diagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  message: string;
  severity: number;
  source: string;
  code: string;
}
interface CompletionItem {
  label: string;
  detail?: string;
  textEdit?: { newText: string };
}

export interface LspSession {
  conn: MessageConnection;
  child: ChildProcess;
  diagnostics: Map<string, Diagnostic[]>;
  waitDiagnostics(uri: string, pred: (d: Diagnostic[]) => boolean, ms?: number): Promise<Diagnostic[]>;
  open(uri: string, text: string): void;
  close(): Promise<void>;
}

/** Starts the bundled server over stdio and initialises it with a tracking URI. */
export async function startLsp(trackingUri: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<LspSession> {
  const child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const conn = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const diagnostics = new Map<string, Diagnostic[]>();
  const waiters: (() => void)[] = [];
  conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; diagnostics: Diagnostic[] }) => {
    diagnostics.set(p.uri, p.diagnostics);
    for (const w of waiters.splice(0)) w();
  });
  conn.onNotification('window/logMessage', () => undefined);
  conn.onRequest('workspace/codeLens/refresh', () => null);
  conn.listen();
  await conn.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: trackingUri ? { trackingUri } : {} });
  await conn.sendNotification('initialized', {});
  let version = 0;
  return {
    conn,
    child,
    diagnostics,
    open: (uri, text) => void conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'python', version: ++version, text } }),
    waitDiagnostics: async (uri, pred, ms = 15000) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const d = diagnostics.get(uri);
        if (d && pred(d)) return d;
        if (Date.now() > deadline) throw new Error(`no matching diagnostics for ${uri}: ${JSON.stringify(d)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 200);
        });
      }
    },
    close: async () => {
      await conn.sendRequest('shutdown').catch(() => undefined);
      conn.dispose();
      child.kill();
    },
  };
}

/** The line/character of the first `needle` in `text`, plus `delta` characters. */
export function positionOf(text: string, needle: string, delta = 0): { line: number; character: number } {
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} not in the document`);
  const before = text.slice(0, at + delta);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

export const ANALYSIS = `import mlflow
from mlflow import MlflowClient

runs = mlflow.search_runs(experiment_names=["lsp"], filter_string="metrics.acuracy > 0.9 and params.model = 'rf'")
bad = mlflow.search_runs(["1"], "accuracy > 0.9 and params.lr > 0.1")
client = MlflowClient()
ok = client.search_runs(["1"], filter_string="metrics.accuracy > 0.5", order_by=["metrics.val_accuracy DESC", "params.lrr"])
done = client.search_runs(["1"], filter_string="metrics. ")
vals = mlflow.search_runs(filter_string="params.model = ")
models = client.search_registered_models("name LIKE 'x%' and tag.k > 'v'")
mlflow.set_experiment("lsp")
with mlflow.start_run():
    mlflow.log_metric("accuracy", 0.9)
    mlflow.log_metric("val_acc", 0.9)
`;

/** Searches and logging calls aimed at one experiment, with a bare import and an MlflowClient. */
const SCOPED = `import mlflow
from mlflow import MlflowClient, log_metric
other = mlflow.search_runs(experiment_names=["other"], filter_string="metrics.accuracy > 0.5 and metrics.f1 > 0.1 and params.depth = '3'")
typo = mlflow.search_runs(experiment_names=["othr"], filter_string="metrics.f1 > 0.1")
keys = mlflow.search_runs(experiment_names=["other"], filter_string="metrics. ")
mlflow.set_experiment("other")
log_metric("f", 0.1)
client = MlflowClient()
client.log_metric(run_id, "accuracy", 1.0)
mlflow.log_text("hi", "notes/readme.md")
mlflow.log_text("hi", "notes/read.md")
mlflow.set_experiment("lsp")
mlflow.log_artifact("out/summary.txt", artifact_path="reports")
`;

describe('language server over stdio (dist/languageServer.js)', function () {
  this.timeout(120000);
  let serve: ServeProcess;
  let base: string;
  let lsp: LspSession;
  let root: string;
  let uri: string;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-lsp-'));
    serve = runlensServe(path.join(root, 'store'));
    base = await serve.url;
    const seed = path.join(root, 'analysis.py');
    fs.writeFileSync(seed, SEED);
    await new Promise<void>((resolve, reject) =>
      execFile(PYTHON, [seed], { env: { ...process.env, MLFLOW_TRACKING_URI: base, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } }, (err, _o, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve())),
    );
    fs.writeFileSync(seed, ANALYSIS);
    uri = pathToFileURL(seed).href;
    lsp = await startLsp(base);
    lsp.open(uri, ANALYSIS);
  });
  after(async () => {
    await lsp?.close();
    serve?.stop();
  });

  it('publishes diagnostics with source runlens: syntax-level, value type, unknown key with did-you-mean', async () => {
    const ds = await lsp.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'unknown-key'));
    const at = (d: Diagnostic): string => ANALYSIS.split('\n')[d.range.start.line]!.slice(d.range.start.character, d.range.end.character);
    const seen = ds.map((d) => [d.code, at(d), d.source]);
    assert.deepEqual(seen, [
      ['unknown-key', 'acuracy', 'runlens'],
      ['unknown-attribute', 'accuracy', 'runlens'],
      ['comparator', '>', 'runlens'],
      ['value-type', '0.1', 'runlens'],
      ['unknown-key', 'lrr', 'runlens'],
      ['syntax', '.', 'runlens'],
      ['syntax', '', 'runlens'],
      ['comparator', '>', 'runlens'],
    ]);
    assert.match(ds[0]!.message, /did you mean `metrics\.accuracy`/);
    assert.equal(ds[0]!.severity, 2);
    assert.match(ds[1]!.message, /did you mean `metrics\.accuracy`/);
    assert.match(ds.find((d) => at(d) === 'lrr')!.message, /did you mean `params\.lr`/);
  });

  it('completes keys that exist, ranked by how many runs have them, with backticks where needed', async () => {
    const items = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf(ANALYSIS, 'metrics. ', 'metrics.'.length) })) as CompletionItem[];
    const labels = items.map((i) => i.label);
    assert.deepEqual(labels.slice(0, 2).sort(), ['accuracy', 'val_accuracy']);
    assert.equal(labels[2], 'val loss');
    assert.equal(items.find((i) => i.label === 'val loss')!.textEdit!.newText, 'metrics.`val loss`');
    assert.match(items[0]!.detail!, /^4 of 4 runs/);
  });

  it('completes prefixes and attributes at the start, comparators after a key, seen values of a param', async () => {
    const start = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf(ANALYSIS, 'filter_string="metrics.accuracy', 'filter_string="'.length) })) as CompletionItem[];
    for (const p of ['metrics.', 'params.', 'tags.', 'attributes.', 'datasets.', 'status']) assert.ok(start.some((i) => i.label === p), `${p} offered`);
    const cmp = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf(ANALYSIS, 'metrics.accuracy > 0.5', 'metrics.accuracy '.length) })) as CompletionItem[];
    assert.deepEqual(cmp.map((i) => i.label), ['=', '!=', '<', '<=', '>', '>=']);
    const values = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri }, position: positionOf(ANALYSIS, "params.model = \")", "params.model = ".length) })) as CompletionItem[];
    assert.deepEqual(values.map((i) => i.label).sort(), ["'gbm'", "'rf'"]);
  });

  it('hovers a filter key with runs having it and its range; a logged key with recent values and a sparkline', async () => {
    const h = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(ANALYSIS, 'metrics.accuracy > 0.5', 10) })) as { contents: { value: string } };
    assert.match(h.contents.value, /4 of 4 runs/);
    assert.match(h.contents.value, /min 0\.7 · max 0\.85 · latest 0\.85/);
    const p = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(ANALYSIS, "params.model = 'rf'", 8) })) as { contents: { value: string } };
    assert.match(p.contents.value, /2 distinct values: `rf` \(2\), `gbm` \(2\)|2 distinct values: `gbm` \(2\), `rf` \(2\)/);
    const log = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(ANALYSIS, 'log_metric("accuracy"', 13) })) as { contents: { value: string } };
    assert.match(log.contents.value, /metrics\.accuracy\*\* — 4 of 4 runs/);
    assert.match(log.contents.value, /`▁▃▆█`/);
    assert.match(log.contents.value, /command:runlens\.showCharts\?/);
    const typo = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(ANALYSIS, 'log_metric("val_acc"', 13) })) as { contents: { value: string } };
    assert.match(typo.contents.value, /no run has logged this metric yet.*`val_accuracy`/);
  });

  it('checks a search naming experiments against their keys only, and warns on an experiment that does not exist', async () => {
    const u = pathToFileURL(path.join(root, 'scoped.py')).href;
    lsp.open(u, SCOPED);
    const ds = await lsp.waitDiagnostics(u, (d) => d.length > 0);
    const at = (d: Diagnostic): string => SCOPED.split('\n')[d.range.start.line]!.slice(d.range.start.character, d.range.end.character);
    assert.deepEqual(ds.map((d) => [d.code, at(d)]), [
      ['unknown-key', 'accuracy'],
      ['unknown-experiment', '"othr"'],
      ['syntax', '.'],
    ]);
    assert.match(ds[0]!.message, /no run of these experiments has it/);
    assert.match(ds[1]!.message, /no active experiment is named 'othr': did you mean 'other'\?/);
    const keys = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: u }, position: positionOf(SCOPED, 'metrics. ', 'metrics.'.length) })) as CompletionItem[];
    assert.deepEqual(keys.map((i) => i.label), ['f1']);
    assert.match(keys[0]!.detail!, /^2 of 2 runs/);
    // A bare log_metric imported from mlflow, after set_experiment("other"): that experiment's keys.
    const logged = (await lsp.conn.sendRequest('textDocument/completion', { textDocument: { uri: u }, position: positionOf(SCOPED, 'log_metric("f"', 'log_metric("f'.length) })) as CompletionItem[];
    assert.deepEqual(logged.map((i) => i.label), ['f1']);
    const hover = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: positionOf(SCOPED, 'metrics.f1 > 0.1 and', 9) })) as { contents: { value: string } };
    assert.match(hover.contents.value, /2 of 2 runs in experiment 'other'/);
    // MlflowClient.log_metric takes the run id first: the key is the second argument.
    const client = (await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: positionOf(SCOPED, '"accuracy", 1.0', 3) })) as { contents: { value: string } };
    assert.match(client.contents.value, /no run has logged this metric yet in experiment 'other'/);
  });

  it('hovers an artifact path with the recent runs holding it, or what is there instead', async () => {
    const u = pathToFileURL(path.join(root, 'scoped.py')).href;
    const hover = async (needle: string, delta: number): Promise<string> => ((await lsp.conn.sendRequest('textDocument/hover', { textDocument: { uri: u }, position: positionOf(SCOPED, needle, delta) })) as { contents: { value: string } }).contents.value;
    const readme = await hover('"notes/readme.md"', 3);
    assert.match(readme, /`notes\/readme\.md`\*\* — in 2 of the 2 most recent runs in experiment 'other'/);
    assert.match(readme, /\[other-1\]\(command:runlens\.showRunPage\?[^)]+\): 11 B · finished/);
    assert.match(readme, /\[other-0\]\(command:runlens\.showRunPage\?[^)]+\): 10 B · finished/);
    const typo = await hover('"notes/read.md"', 3);
    assert.match(typo, /none of the 2 most recent runs in experiment 'other' has it yet/);
    assert.match(typo, /In `notes\/` they have: `readme\.md` — did you mean `readme\.md`\?/);
    // log_artifact(local, artifact_path=...): the file lands at <artifact_path>/<its name>.
    for (const needle of ['"out/summary.txt"', '"reports")']) {
      const summary = await hover(needle, 2);
      assert.match(summary, /`reports\/summary\.txt`\*\* — in 2 of the 4 most recent runs in experiment 'lsp'/);
      assert.match(summary, /\[run-1\]\(command:runlens\.showRunPage\?[^)]+\): 5 B/);
    }
  });

  it("puts this file's last run over mlflow.start_run(", async () => {
    const lenses = (await lsp.conn.sendRequest('textDocument/codeLens', { textDocument: { uri } })) as { command: { title: string; command: string; arguments: string[] } }[];
    assert.equal(lenses.length, 1);
    assert.match(lenses[0]!.command.title, /^Last run: run-3 · finished · accuracy 0\.85 · \d+ s ago$/);
    assert.equal(lenses[0]!.command.command, 'runlens.showRunPage');
  });

  it('degrades to syntax-only when no tracking server answers', async () => {
    const offline = await startLsp('http://127.0.0.1:9', { ...process.env, MLFLOW_TRACKING_URI: '' });
    try {
      const u = 'file:///tmp/offline.py';
      offline.open(u, ANALYSIS);
      const ds = await offline.waitDiagnostics(u, (d) => d.length > 0);
      assert.ok(!ds.some((d) => d.code === 'unknown-key'), 'no key warnings without a store');
      assert.ok(ds.some((d) => d.code === 'unknown-attribute' && /metrics\.accuracy/.test(d.message)), 'the value still suggests the prefix');
      const items = (await offline.conn.sendRequest('textDocument/completion', { textDocument: { uri: u }, position: positionOf(ANALYSIS, 'metrics. ', 'metrics.'.length) })) as CompletionItem[];
      assert.deepEqual(items, []);
    } finally {
      await offline.close();
    }
  });
});
