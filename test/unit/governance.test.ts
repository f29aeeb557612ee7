import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AuditLog, verifyAuditText, type AuditEntry, type AuditFields } from '../../src/governance/auditLog';
import { GovernanceConfigError, parseGovernanceConfig } from '../../src/governance/config';
import { governStore } from '../../src/governance/open';
import { dayOf, Ledger } from '../../src/governance/ledger';
import { DEFAULT_PRICING, formatUsd, fromNano, storageCostNano, toNano } from '../../src/governance/pricing';
import { basicAuthUser, refusalStatus } from '../../src/server/httpServer';
import { MlflowError } from '../../src/domain/errors';
import { withFaultyWrites } from '../support/faultyWrites';
import { MemoryLogger, openStore, tempRoot } from './helpers';

const fields = (op: string, extra: Partial<AuditFields> = {}): AuditFields => ({ ts: Date.UTC(2026, 11, 1, 12), actor: 'ana', attribution: { team: 'ml' }, op, target: {}, outcome: 'ok', cost_nano: 100_000, ...extra });

describe('governance configuration', () => {
  it('reads budgets, policies, pricing and defaults', () => {
    const cfg = parseGovernanceConfig(
      [
        'defaults: {team: ml, customer: acme}',
        'budgets:',
        '  - {name: cap, scope: {team: ml}, daily_usd: 5, monthly_usd: 100, mode: enforce}',
        'policies:',
        '  require_tags: {tags: [owner, ticket], mode: warn}',
        '  allowed_environments: {values: [dev, prod], mode: enforce}',
        '  max_artifact_size_mb: {limit: 50, mode: warn}',
        'pricing:',
        '  tracking_call_usd: 0.001',
        '  artifact_storage_backend: s3',
        '  llm: {my-model: {input_per_million: 1, output_per_million: 2}}',
        'otel: {enabled: true}',
      ].join('\n'),
    );
    assert.deepEqual(cfg.defaults, { team: 'ml', customer_id: 'acme' });
    assert.deepEqual(cfg.budgets, [{ label: 'cap', scope: { team: 'ml' }, dailyUsd: 5, monthlyUsd: 100, mode: 'enforce' }]);
    assert.deepEqual(cfg.policies.requireTags, { tags: ['owner', 'ticket'], mode: 'warn', atCreate: false });
    assert.equal(cfg.pricing.trackingCallUsd, 0.001);
    assert.equal(cfg.pricing.registryOpUsd, 0.0005);
    assert.equal(cfg.pricing.storageBackend, 's3');
    assert.deepEqual(cfg.pricing.llm['my-model'], { input: 1, output: 2 });
    assert.equal(cfg.otel.enabled, true);
  });

  it('names the file, line and column of every problem', () => {
    try {
      parseGovernanceConfig('budgets:\n  - scope: {teem: ml}\n    daily_usd: -1\n    mode: block\npolicies:\n  require_tag: {}\n', 'g.yaml');
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof GovernanceConfigError);
      assert.deepEqual(err.problems, [
        'g.yaml:2:13: unknown attribute budgets[0].scope.teem (expected team, project, customer_id, environment, cost_center)',
        'g.yaml:3:16: budgets[0].daily_usd must be a number of dollars ≥ 0 (got -1)',
        'g.yaml:4:11: budgets[0].mode must be warn or enforce (got "block")',
        'g.yaml:2:5: budgets[0] needs a scope, e.g. scope: {team: ml}',
        "g.yaml:6:3: unknown policy 'require_tag' (expected require_tags, allowed_environments, max_artifact_size_mb)",
      ]);
    }
  });

  it('reports YAML syntax errors with their line', () => {
    assert.throws(() => parseGovernanceConfig('budgets: [\n', 'g.yaml'), (e: unknown) => e instanceof GovernanceConfigError && /^g\.yaml:\d+:\d+: /.test(e.problems[0]!));
  });
});

describe('pricing', () => {
  it('keeps sums exact in nano-dollars', () => {
    let sum = 0;
    for (let i = 0; i < 10_000; i++) sum += toNano(0.0001);
    assert.equal(formatUsd(sum), '$1');
    assert.equal(formatUsd(toNano(0.0005) * 3), '$0.0015');
  });

  it('prorates storage per day from the GB-month price', () => {
    const s3 = { ...DEFAULT_PRICING, storageBackend: 's3' as const };
    // 30 days of one GB is the month's price.
    assert.equal(storageCostNano(s3, 1024 ** 3, 0, 30 * 86_400_000), 30 * Math.round(toNano(0.023) / 30));
    assert.equal(storageCostNano(DEFAULT_PRICING, 1024 ** 3, 0, 30 * 86_400_000), 0);
  });
});

describe('audit trail', () => {
  it('chains entries, survives a reopen, and verify finds an edit', async () => {
    const dir = tempRoot('audit-');
    const log = await AuditLog.open(dir, () => undefined, () => undefined);
    await Promise.all([log.append(fields('a')), log.append(fields('b')), log.append(fields('c'))]);
    await log.close();
    const replayed: AuditEntry[] = [];
    const again = await AuditLog.open(dir, (e) => replayed.push(e), () => undefined);
    assert.deepEqual(replayed.map((e) => [e.seq, e.op]), [[1, 'a'], [2, 'b'], [3, 'c']]);
    const d = await again.append(fields('d'));
    assert.equal(d.seq, 4);
    assert.equal(d.prev, replayed[2]!.hash);
    await again.close();
    const file = path.join(dir, 'audit.jsonl');
    assert.deepEqual(verifyAuditText(fs.readFileSync(file, 'utf8')), { entries: 4, tornTail: false });
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines[2] = lines[2]!.replace('"actor":"ana"', '"actor":"eve"');
    const v = verifyAuditText(lines.join('\n'));
    assert.equal(v.bad?.line, 3);
    assert.match(v.bad!.reason, /edited/);
    const removed = verifyAuditText([lines[0], lines[1], lines[3], ''].join('\n'));
    assert.equal(removed.bad?.line, 3);
    assert.match(removed.bad!.reason, /removed or reordered/);
  });

  it('cuts a torn last line left by a crash and keeps appending to an intact chain', async () => {
    const dir = tempRoot('audit-');
    const log = await AuditLog.open(dir, () => undefined, () => undefined);
    await log.append(fields('a'));
    await log.close();
    fs.appendFileSync(path.join(dir, 'audit.jsonl'), '{"seq":2,"ts":1,"act');
    const warnings: string[] = [];
    const again = await AuditLog.open(dir, () => undefined, (m) => warnings.push(m));
    assert.match(warnings.join('\n'), /partial last entry/);
    await again.append(fields('b'));
    await again.close();
    assert.deepEqual(verifyAuditText(fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8')), { entries: 2, tornTail: false });
  });

  it('a failed write rejects its group and leaves no gap in the chain', async () => {
    const dir = tempRoot('audit-');
    const log = await AuditLog.open(dir, () => undefined, () => undefined);
    await log.append(fields('a'));
    // Half the line reaches the file, then the disk is full.
    await withFaultyWrites(
      (call, wanted) => (call === 0 ? Math.floor(wanted / 2) : call === 1 ? Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }) : undefined),
      () => assert.rejects(log.append(fields('lost')), /ENOSPC/),
    );
    const b = await log.append(fields('b'));
    assert.equal(b.seq, 2);
    await log.close();
    assert.deepEqual(verifyAuditText(fs.readFileSync(path.join(dir, 'audit.jsonl'), 'utf8')), { entries: 2, tornTail: false });
  });
  it('writes into preallocated zeros, which a crash leaves and a clean close cuts off', async () => {
    const dir = tempRoot('audit-');
    const file = path.join(dir, 'audit.jsonl');
    const log = await AuditLog.open(dir, () => undefined, () => undefined);
    for (let i = 0; i < 5; i++) await log.append(fields(`op${i}`));
    const lines = fs.readFileSync(file).toString('utf8');
    const text = lines.replace(/\0+$/, '');
    assert.equal(text.split('\n').length, 6);
    assert.ok(fs.statSync(file).size > Buffer.byteLength(text) + 1024 * 1024, 'zeros are written ahead of the entries');
    // What a crash leaves: the entries acknowledged so far, then zeros.
    const crashed = tempRoot('audit-crash-');
    fs.copyFileSync(file, path.join(crashed, 'audit.jsonl'));
    assert.deepEqual(verifyAuditText(fs.readFileSync(path.join(crashed, 'audit.jsonl'), 'utf8')), { entries: 5, tornTail: false });
    const replayed: AuditEntry[] = [];
    const warnings: string[] = [];
    const reopened = await AuditLog.open(crashed, (e) => replayed.push(e), (m) => warnings.push(m));
    assert.deepEqual(warnings, []);
    assert.equal(replayed.length, 5);
    assert.equal((await reopened.append(fields('after'))).seq, 6);
    await reopened.close();
    assert.deepEqual(verifyAuditText(fs.readFileSync(path.join(crashed, 'audit.jsonl'), 'utf8')), { entries: 6, tornTail: false });
    await log.close();
    const atRest = fs.readFileSync(file, 'utf8');
    assert.equal(atRest, text, 'closed, the trail is plain JSON lines');
  });
});

describe('cost ledger', () => {
  const entry = (seq: number, e: Partial<AuditEntry>): AuditEntry => ({ seq, prev: '', hash: '', ...fields('logMetric'), ...e });

  it('names the UTC day of a time, across day boundaries in any order', () => {
    const midnight = Date.UTC(2026, 0, 1);
    assert.deepEqual([midnight - 1, midnight, midnight + 86_399_999, midnight + 86_400_000, midnight - 1, midnight].map(dayOf), ['2025-12-31', '2026-01-01', '2026-01-01', '2026-01-02', '2025-12-31', '2026-01-01']);
  });

  it('moves a run’s spend when it is re-tagged, for summaries and budget scopes', () => {
    const acme = { customer_id: 'acme' };
    const ledger = new Ledger(DEFAULT_PRICING, [acme]);
    ledger.apply(entry(1, { op: 'createRun', target: { run_id: 'r1', experiment_id: '0' }, tags: { 'genops.customer_id': 'globex' } }));
    ledger.apply(entry(2, { target: { run_id: 'r1' } }));
    const day = '2026-12-01';
    assert.equal(ledger.spendNano(acme, day, day), 0);
    ledger.apply(entry(3, { op: 'setTag', target: { run_id: 'r1' }, tags: { 'genops.customer_id': 'acme' } }));
    assert.equal(ledger.spendNano(acme, day, day), 300_000);
    assert.deepEqual(ledger.summary({ groupBy: 'customer_id' }).rows, [{ key: 'acme', cost_nano: 300_000, operations: 3 }]);
  });

  it('splits a summary by day per row and a budget scope by day (the view’s charts)', () => {
    const ml = { team: 'ml' };
    const ledger = new Ledger(DEFAULT_PRICING, [ml]);
    const d1 = Date.UTC(2026, 11, 1, 12);
    const d2 = Date.UTC(2026, 11, 2, 9);
    ledger.apply(entry(1, { ts: d1, op: 'createRun', target: { run_id: 'a', experiment_id: '0' }, tags: { 'genops.team': 'ml' } }));
    ledger.apply(entry(2, { ts: d2, target: { run_id: 'a' } }));
    ledger.apply(entry(3, { ts: d2, op: 'createRun', target: { run_id: 'b', experiment_id: '0' }, tags: { 'genops.team': 'cv' }, cost_nano: 500_000 }));
    const rows = ledger.summary({ groupBy: 'team', byDay: true }).rows;
    assert.deepEqual(rows.map((r) => [r.key, r.cost_nano, Object.fromEntries(r.by_day ?? [])]), [
      ['cv', 500_000, { '2026-12-02': 500_000 }],
      ['ml', 200_000, { '2026-12-01': 100_000, '2026-12-02': 100_000 }],
    ]);
    assert.equal(ledger.summary({ groupBy: 'team' }).rows[0]!.by_day, undefined);
    assert.deepEqual([...ledger.spendByDayNano(ml, '2026-12-01', '2026-12-31')], [['2026-12-01', 100_000], ['2026-12-02', 100_000]]);
    assert.deepEqual([...ledger.spendByDayNano(ml, '2026-12-02', '2026-12-02')], [['2026-12-02', 100_000]]);
  });

  it('a parent’s total includes its descendants', () => {
    const ledger = new Ledger(DEFAULT_PRICING);
    ledger.apply(entry(1, { op: 'createRun', target: { run_id: 'p', experiment_id: '0' } }));
    ledger.apply(entry(2, { op: 'createRun', target: { run_id: 'c', experiment_id: '0' }, tags: { 'mlflow.parentRunId': 'p' } }));
    ledger.apply(entry(3, { op: 'createRun', target: { run_id: 'g', experiment_id: '0' }, tags: { 'mlflow.parentRunId': 'c' } }));
    assert.equal(ledger.runTotalNano('p'), 300_000);
    assert.equal(ledger.runTotalNano('c'), 200_000);
  });
});

describe('governed store', () => {
  it('charges each write once, refuses over an enforced budget, and keeps reads free', async () => {
    const root = tempRoot('governed-');
    const store = await openStore(root);
    const cfg = parseGovernanceConfig('budgets:\n  - {name: cap, scope: {team: ml}, daily_usd: 0.0003, mode: enforce}\n');
    const { store: gov, governance } = await governStore(store, { config: cfg, storeRoot: root, log: new MemoryLogger() });
    try {
      const run = await gov.createRun({ experimentId: '0', tags: [{ key: 'genops.team', value: 'ml' }] });
      await gov.logMetric(run.info.run_id, { key: 'm', value: 1, timestamp: 1, step: 0 });
      await gov.getRun(run.info.run_id);
      await gov.searchRuns({ experimentIds: ['0'] });
      await gov.logMetric(run.info.run_id, { key: 'm', value: 2, timestamp: 2, step: 1 });
      await assert.rejects(gov.logMetric(run.info.run_id, { key: 'm', value: 3, timestamp: 3, step: 2 }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'RESOURCE_EXHAUSTED' && /'cap'/.test(e.message));
      const got = await gov.getRun(run.info.run_id);
      assert.equal(got.data.tags.find((t) => t.key === 'genops.cost.total_usd')?.value, '0.0003');
      assert.equal((await store.getMetricHistory(run.info.run_id, 'm')).items.length, 2);
      assert.equal(gov.governance.budgets()[0]!.state, 'ok');
      const audit = await gov.governance.audit({});
      assert.deepEqual(audit.map((a) => [a.op, a.outcome]), [['logMetric', 'refused'], ['logMetric', 'ok'], ['logMetric', 'ok'], ['createRun', 'ok']]);
      // Paging newest first: the next page starts below the last entry shown.
      const page2 = await gov.governance.audit({ limit: 2, beforeSeq: audit[1]!.seq });
      assert.deepEqual(page2.map((a) => a.seq), [audit[2]!.seq, audit[3]!.seq]);
      assert.deepEqual(Object.keys(gov.governance.budgets()[0]!.by_day), [new Date().toISOString().slice(0, 10)]);
    } finally {
      await governance.close();
      await store.close();
    }
  });

  it('audits a write as it is applied and takes the charge back when applying fails', async () => {
    const root = tempRoot('governed-');
    const store = await openStore(root);
    const cfg = parseGovernanceConfig('defaults: {team: ml}\n');
    const { store: gov, governance } = await governStore(store, { config: cfg, storeRoot: root, log: new MemoryLogger() });
    try {
      const run = await gov.createRun({ experimentId: '0' });
      const runId = run.info.run_id;
      await gov.logMetric(runId, { key: 'm', value: 1, timestamp: 1, step: 0 });
      // A value the store refuses (a param changed): audited first, then reversed.
      await gov.logParam(runId, { key: 'p', value: 'a' });
      await assert.rejects(gov.logParam(runId, { key: 'p', value: 'b' }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'INVALID_PARAMETER_VALUE');
      // A run in an experiment that does not exist: its entry named the chosen id, then is taken back.
      await assert.rejects(gov.createRun({ experimentId: '999' }), (e: unknown) => e instanceof MlflowError && e.errorCode === 'RESOURCE_DOES_NOT_EXIST');
      const audit = (await gov.governance.audit({})).reverse();
      assert.deepEqual(audit.map((a) => [a.op, a.outcome]), [['createRun', 'ok'], ['logMetric', 'ok'], ['logParam', 'ok'], ['logParam', 'ok'], ['logParam', 'failed'], ['createRun', 'ok'], ['createRun', 'failed']]);
      assert.equal(audit[0]!.target.run_id, runId, 'the create entry names the run it made');
      const lost = audit[5]!.target.run_id!;
      assert.match(lost, /^[0-9a-f]{32}$/);
      assert.equal(gov.governance.runCost(lost).cost_usd, 0);
      await assert.rejects(store.getRun(lost));
      const [taken, back] = audit.slice(3, 5);
      assert.equal(back!.reverses, taken!.seq);
      assert.equal(back!.cost_usd, -taken!.cost_usd);
      const track = DEFAULT_PRICING.trackingCallUsd;
      const usd3 = fromNano(3 * toNano(track));
      // Three operations applied and charged, one that failed: it costs nothing and counts once.
      assert.equal(gov.governance.runCost(runId).cost_usd, usd3);
      const byOp = gov.governance.summary({ groupBy: 'operation' });
      assert.deepEqual(byOp.rows.find((r) => r.key === 'logParam')?.operations, 2);
      assert.equal(byOp.total_usd, usd3);
      // Rebuilt from the trail, the ledger agrees.
      await governance.close();
      const again = await governStore(store, { config: cfg, storeRoot: root, log: new MemoryLogger() });
      assert.equal(again.governance.runCost(runId).cost_usd, usd3);
      await again.governance.close();
      assert.deepEqual(verifyAuditText(fs.readFileSync(path.join(root, '.governance', 'audit.jsonl'), 'utf8')), { entries: 7, tornTail: false });
    } finally {
      await governance.close().catch(() => undefined);
      await store.close();
    }
  });
});

describe('request identity and refusal status', () => {
  it('reads the basic-auth user', () => {
    assert.equal(basicAuthUser(`Basic ${Buffer.from('ana:secret').toString('base64')}`), 'ana');
    assert.equal(basicAuthUser('Bearer abc'), undefined);
    assert.equal(basicAuthUser(undefined), undefined);
  });

  it('answers budget refusals 429, but 403 to the Python client that would retry 429 and drop the message', () => {
    const e = new MlflowError('RESOURCE_EXHAUSTED', 'Budget x');
    assert.equal(refusalStatus(e, 'curl/8'), 429);
    assert.equal(refusalStatus(e, 'mlflow-python-client/3.17.2'), 403);
    assert.equal(refusalStatus(new MlflowError('INVALID_PARAMETER_VALUE', 'x'), 'mlflow-python-client/3.17.2'), 400);
  });
});
