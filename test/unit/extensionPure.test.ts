// The extension's vscode-free parts: run forest, run documents, comparisons, output capture.
import * as assert from 'node:assert/strict';
import type { WireRun } from '../../src/client/wireTypes';
import { formatComparison } from '../../src/extension/runDocument/compareFormat';
import { formatDuration, formatRunDocument, formatUsd, isGovernanceShownTag, runGovernance } from '../../src/ui/runFormat';
import { parseAuditFilter } from '../../src/ui/governanceProtocol';
import { OutputCapture } from '../../src/extension/terminal/outputCapture';
import { buildRunForest, mergeRuns } from '../../src/extension/tree/runForest';
import { KeyedThrottle } from '../../src/extension/throttle';

function run(id: string, opts: { parent?: string; params?: Record<string, string>; metrics?: Record<string, number>; tags?: Record<string, string> } = {}): WireRun {
  const tags = Object.entries(opts.tags ?? {}).map(([key, value]) => ({ key, value }));
  if (opts.parent) tags.push({ key: 'mlflow.parentRunId', value: opts.parent });
  return {
    info: { run_id: id, run_name: id, experiment_id: '1', status: 'FINISHED', start_time: 1_000, end_time: 61_000, lifecycle_stage: 'active', artifact_uri: `mlflow-artifacts:/1/${id}/artifacts` },
    data: {
      params: Object.entries(opts.params ?? {}).map(([key, value]) => ({ key, value })),
      metrics: Object.entries(opts.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: 1, step: 3 })),
      tags,
    },
  };
}

describe('extension: run forest', () => {
  it('nests loaded children under loaded parents and keeps orphans at the top', () => {
    const forest = buildRunForest([run('p'), run('c1', { parent: 'p' }), run('g', { parent: 'c1' }), run('orphan', { parent: 'not-loaded' }), run('self', { parent: 'self' })]);
    assert.deepEqual(forest.roots.map((r) => r.info.run_id), ['p', 'orphan', 'self']);
    assert.deepEqual(forest.childrenOf.get('p')?.map((r) => r.info.run_id), ['c1']);
    assert.deepEqual(forest.childrenOf.get('c1')?.map((r) => r.info.run_id), ['g']);
  });

  it('merges pages without duplicates, keeping the first order', () => {
    assert.deepEqual(mergeRuns([run('a'), run('b')], [run('b'), run('c')]).map((r) => r.info.run_id), ['a', 'b', 'c']);
  });
});

describe('extension: run documents', () => {
  it('renders sorted sections with escaped values so two runs diff line by line', () => {
    const a = formatRunDocument({ run: run('a', { params: { lr: '0.1', depth: '3' }, metrics: { acc: 0.91234567 }, tags: { note: 'two\nlines', 'mlflow.user': 'me' } }), experimentName: 'exp', artifacts: [{ path: 'z.txt', file_size: 1 }, { path: 'a/b.png' }], artifactsTruncated: false });
    assert.match(a, /## Parameters \(2\)\ndepth = 3\nlr = 0\.1\n/);
    assert.match(a, /acc = 0\.912346 {2}\(step 3\)/);
    assert.match(a, /^note = two\\nlines$/m);
    assert.match(a, /## Artifacts \(2\)\na\/b\.png\nz\.txt {2}\(1 bytes\)/);
    assert.match(a, /## System tags \(1\)\nmlflow\.user = me/);
    assert.match(a, /duration: {4}1m 0s/);
    const b = formatRunDocument({ run: run('b', { params: { lr: '0.2', depth: '3' }, metrics: { acc: 0.5 }, tags: { note: 'x', 'mlflow.user': 'me' } }), experimentName: 'exp', artifacts: [{ path: 'z.txt', file_size: 1 }, { path: 'a/b.png' }], artifactsTruncated: false });
    assert.equal(a.split('\n').length, b.split('\n').length);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(250), '0.3s');
    assert.equal(formatDuration(59_000), '59s');
    assert.equal(formatDuration(3_723_000), '1h 2m');
    assert.equal(formatDuration(-1), '');
  });

  it('compares N runs with differing rows first and pipes escaped', () => {
    const text = formatComparison([run('a', { params: { lr: '0.1', opt: 'adam' } }), run('b', { params: { lr: '0.2', opt: 'adam' } }), run('c', { params: { lr: 'x|y', opt: 'adam' } })]);
    const [diff, same] = text.split('## Identical');
    assert.match(diff!, /\| param \| lr \| 0\.1 \| 0\.2 \| x\\\|y \|/);
    assert.match(same!, /\| param \| opt \| adam \| adam \| adam \|/);
    assert.doesNotMatch(diff!, /opt/);
  });
});

describe('views: governance formatting', () => {
  it('reads a governed run’s cost and attribution from its tags, in attribute order', () => {
    const tags = [
      { key: 'genops.customer_id', value: 'acme' },
      { key: 'genops.cost.total_usd', value: '0.0014' },
      { key: 'genops.team', value: 'ml' },
      { key: 'owner', value: 'ana' },
    ];
    assert.deepEqual(runGovernance(tags), { costUsd: 0.0014, attribution: [['team', 'ml'], ['customer_id', 'acme']] });
    assert.equal(runGovernance([{ key: 'owner', value: 'ana' }]), undefined);
    assert.ok(isGovernanceShownTag('genops.team') && !isGovernanceShownTag('genops.violation.budget') && !isGovernanceShownTag('owner'));
  });

  it('formats dollars without SI prefixes', () => {
    assert.deepEqual([0, 0.0001, 0.0014, 0.123456, 2.5, 1234.5].map(formatUsd), ['$0', '$0.0001', '$0.0014', '$0.1235', '$2.50', '$1,234.50']);
  });

  it('parses the audit filter box: keyed tokens, bare outcomes, run ids and operations, and says what is wrong', () => {
    const run = 'a'.repeat(32);
    assert.deepEqual(parseAuditFilter(`op:createRun outcome:refused run:${run}`), { filter: { op: 'createRun', outcome: 'refused', runId: run } });
    assert.deepEqual(parseAuditFilter(`refused ${run} logMetric`), { filter: { outcome: 'refused', runId: run, op: 'logMetric' } });
    assert.deepEqual(parseAuditFilter('  '), { filter: {} });
    assert.match(parseAuditFilter('outcome:maybe').error ?? '', /outcome must be one of ok, refused, failed, warned/);
    assert.match(parseAuditFilter('color:red').error ?? '', /Unknown filter 'color:'/);
    assert.match(parseAuditFilter('op:').error ?? '', /no value/);
  });
});

describe('extension: terminal output capture', () => {
  it('keeps everything when short and strips ANSI colours', () => {
    const c = new OutputCapture(1000);
    c.append('\x1b[31mred\x1b[0m line\n');
    assert.equal(c.text(), 'red line\n');
  });

  it('keeps the head and the tail of long output and says what it dropped', () => {
    const c = new OutputCapture(100);
    c.append('H'.repeat(50));
    for (let i = 0; i < 20; i++) c.append(`${String(i).padStart(2, '0')}........\n`);
    const t = c.text();
    assert.ok(t.startsWith('H'.repeat(50)));
    assert.match(t, /characters omitted/);
    assert.match(t, /19\.{8}\n$/);
    assert.ok(t.length < 200);
  });
});

describe('extension: refresh throttle', () => {
  const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('runs the first change at once, then at most once per interval with a trailing call', async () => {
    const t = new KeyedThrottle();
    const calls: number[] = [];
    const start = Date.now();
    t.schedule('k', 100, () => calls.push(Date.now() - start));
    await tick(10);
    assert.equal(calls.length, 1, 'first change runs immediately');
    let lastChange = 0;
    for (let i = 0; i < 20; i++) {
      lastChange = Date.now() - start;
      t.schedule('k', 100, () => calls.push(Date.now() - start));
      await tick(10);
    }
    await tick(150);
    const elapsed = Date.now() - start;
    // Bounds follow the clock actually observed (a loaded machine stretches the 10 ms ticks):
    // never closer than the interval, so at most one call per interval plus the leading one,
    // and a trailing call that comes after the last change.
    const spacing = calls.slice(1).map((c, i) => c - calls[i]!);
    assert.ok(spacing.every((d) => d >= 90), `spacing ${calls.join(',')}`);
    assert.ok(calls.length >= 2 && calls.length <= Math.floor(elapsed / 90) + 1, `calls ${calls.join(',')} over ${elapsed} ms`);
    assert.ok(calls[calls.length - 1]! >= lastChange, `trailing call after the last change at ${lastChange}: ${calls.join(',')}`);
    t.dispose();
  });

  it('keeps keys independent', async () => {
    const t = new KeyedThrottle();
    const seen: string[] = [];
    t.schedule('a', 1000, () => seen.push('a'));
    t.schedule('b', 1000, () => seen.push('b'));
    await tick(20);
    assert.deepEqual(seen.sort(), ['a', 'b']);
    t.dispose();
  });
});
