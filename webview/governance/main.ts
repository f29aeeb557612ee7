/**
 * The Governance view: what each team, project or customer spent per day (stacked bars), each
 * budget's burn-down against its limit, the experiments and runs that cost most, policy and
 * budget violations linking to their runs, and the audit trail (filtered, paged newest first).
 * A server that does not govern its store gets the steps to turn governance on instead.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { TopLevelSpec } from 'vega-lite';
import { parseAuditFilter, SPEND_GROUPS, type AuditPage, type BudgetView, type GovernanceOverview, type GovernanceViewState, type SpendGroup } from '../../src/ui/governanceProtocol';
import { themeColors, themeConfig } from '../charts/chartSpec';
import { el } from '../dom';
import { formatUsd as usd } from '../format';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { preloadVega, renderSpec } from '../vega/lazyVega';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
const PERIODS = [7, 30, 90];
const AUDIT_PAGE = 50;
/** Axis labels in dollars: `$0.0015`, `$2.5`, `$1,200` (SI prefixes would read `$2m` as millions). */
const USD_AXIS = "datum.value >= 1 ? format(datum.value, '$,.2~f') : format(datum.value, '$.2~g')";
const GROUP_LABELS: Record<SpendGroup, string> = { team: 'Team', project: 'Project', customer_id: 'Customer' };

const transport = withBusy(createTransport());
const state: GovernanceViewState = { groupBy: 'team', days: 30, auditFilter: '', ...transport.loadState<GovernanceViewState>({}) };
const app = document.getElementById('app')!;
const save = (): void => transport.saveState(state);
preloadVega().catch(() => undefined);


function link(text: string, id: string, onClick: () => void): HTMLAnchorElement {
  const a = el('a', { href: '#', class: 'run-link', 'data-id': id }, text);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    onClick();
  });
  return a;
}

const runLink = (runId: string, name: string): HTMLAnchorElement => link(name, runId, () => transport.action('openRun', [runId]));

function table(cls: string, head: string[], rows: (string | Node)[][], numeric: number[] = []): HTMLTableElement {
  const t = el('table', { class: `list ${cls}` });
  const tr = el('tr');
  head.forEach((h, i) => tr.append(el('th', numeric.includes(i) ? { class: 'num' } : {}, h)));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(tr);
  for (const r of rows) {
    const row = el('tr');
    r.forEach((c, i) => {
      const td = el('td', numeric.includes(i) ? { class: 'num' } : {});
      td.append(c);
      row.append(td);
    });
    t.tBodies[0]!.append(row);
  }
  return t;
}

function select(id: string, label: string, options: [string, string][], value: string, onChange: (v: string) => void): HTMLLabelElement {
  const s = el('select', { id, class: 'native-select' });
  for (const [v, text] of options) {
    const opt = el('option', { value: v }, text);
    if (v === value) opt.selected = true;
    s.append(opt);
  }
  s.addEventListener('change', () => onChange(s.value));
  const l = el('label', {}, `${label} `);
  l.append(s);
  return l;
}

// --- charts ----------------------------------------------------------------------------------

/** A chart as wide as its container, `height` high, on the theme's colours; `body` is its data, marks and encodings. */
function themedSpec(height: number, body: Record<string, unknown>): TopLevelSpec {
  return { $schema: SCHEMA, width: 'container', height, autosize: { type: 'fit-x', contains: 'padding' }, background: 'transparent', ...body, config: themeConfig() } as TopLevelSpec;
}

function spendSpec(o: GovernanceOverview): TopLevelSpec {
  const label = GROUP_LABELS[o.groupBy];
  return themedSpec(220, {
    data: { values: o.spend },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'day', type: 'ordinal', title: null, scale: { domain: o.days }, axis: { labelAngle: -45, labelExpr: "slice(datum.value, 5)", labelOverlap: true } },
      y: { field: 'usd', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'Spend (USD)', axis: { labelExpr: USD_AXIS } },
      color: { field: 'key', type: 'nominal', title: label, scale: { range: themeColors() }, sort: o.groups.map((g) => g.key) },
      order: { field: 'usd', aggregate: 'sum', sort: 'descending' },
      tooltip: [{ field: 'day', title: 'Day' }, { field: 'key', title: label }, { field: 'usd', aggregate: 'sum', title: 'Spend (USD)', format: '$.6~g' }],
    },
  });
}

/** Cumulative spend this month against the monthly limit; a daily-only budget: each day's spend against the daily limit. */
function burnSpec(b: BudgetView): TopLevelSpec {
  const monthly = b.monthlyUsd !== undefined;
  const limit = monthly ? b.monthlyUsd! : b.dailyUsd ?? 0;
  let acc = 0;
  const values = b.days.map((d) => ({ day: d.day, usd: monthly ? (acc += d.usd) : d.usd }));
  const [spendColor, , , , limitColor] = themeColors();
  const x = { field: 'day', type: 'ordinal', title: null, axis: { labelAngle: -45, labelExpr: "slice(datum.value, 8)", labelOverlap: true } } as const;
  return themedSpec(140, {
    layer: [
      {
        data: { values },
        mark: { type: 'bar', color: spendColor, opacity: monthly ? 0.7 : 1 },
        encoding: { x, y: { field: 'usd', type: 'quantitative', title: monthly ? 'Month to date' : 'Spent per day', axis: { labelExpr: USD_AXIS } }, tooltip: [{ field: 'day', title: 'Day' }, { field: 'usd', title: monthly ? 'Month to date' : 'Spent', format: '$.6~g' }] },
      },
      {
        data: { values: [{ limit }] },
        mark: { type: 'rule', color: limitColor, strokeDash: [6, 3], strokeWidth: 2 },
        encoding: { y: { field: 'limit', type: 'quantitative' }, tooltip: [{ field: 'limit', title: monthly ? 'Monthly limit' : 'Daily limit', format: '$.6~g' }] },
      },
    ],
  });
}

async function chart(host: HTMLElement, spec: TopLevelSpec): Promise<void> {
  try {
    await renderSpec(host, spec);
    host.dataset.rendered = 'true';
  } catch (err) {
    host.replaceChildren(el('p', { class: 'error' }, `Chart failed: ${err instanceof Error ? err.message : String(err)}`));
  }
}

// --- sections --------------------------------------------------------------------------------

function budgetCard(b: BudgetView, rendering: Promise<void>[]): HTMLElement {
  const card = el('div', { class: `budget budget-${b.state}`, 'data-budget': b.name });
  const head = el('div', { class: 'budget-head' });
  head.append(el('strong', {}, b.name), el('span', { class: `gov-badge mode-${b.mode}` }, b.mode), el('span', { class: `gov-badge state-${b.state}` }, b.state === 'exceeded' ? 'exceeded' : 'within limit'));
  const limits: string[] = [];
  if (b.dailyUsd !== undefined) limits.push(`today ${usd(b.spentTodayUsd)} of ${usd(b.dailyUsd)}`);
  if (b.monthlyUsd !== undefined) limits.push(`this month ${usd(b.spentMonthUsd)} of ${usd(b.monthlyUsd)}`);
  const host = el('div', { class: 'burn-chart' });
  card.append(head, el('div', { class: 'budget-scope' }, `${b.scope} · ${limits.join(' · ')}`), host);
  rendering.push(chart(host, burnSpec(b)));
  return card;
}

function violationsSection(o: GovernanceOverview): HTMLElement {
  const s = el('section', { id: 'violations' });
  s.append(el('h2', {}, `Policy and budget violations (${o.violations.length})`));
  if (!o.violations.length) {
    s.append(el('p', { class: 'empty' }, 'None: every run kept to the budgets and policies.'));
    return s;
  }
  s.append(
    table(
      'violations',
      ['Time', 'Kind', 'Outcome', 'Run', 'Message'],
      o.violations.map((v) => [
        new Date(v.ts).toLocaleString(),
        v.kind,
        el('span', { class: `gov-badge ${v.refused ? 'state-exceeded' : 'mode-warn'}` }, v.refused ? 'refused' : 'marked'),
        v.runId ? runLink(v.runId, v.runName ?? v.runId.slice(0, 12)) : '—',
        el('span', { class: 'message' }, v.message),
      ]),
    ),
  );
  return s;
}

// --- audit -----------------------------------------------------------------------------------

const audit = {
  /** `before` of each page shown so far: the first page has none. */
  stack: [] as (number | undefined)[],
  page: undefined as AuditPage | undefined,
};

function auditSection(): { section: HTMLElement; reload(): void } {
  const s = el('section', { id: 'audit' });
  const filter = el('vscode-textfield', { id: 'audit-filter', placeholder: 'Filter: op:createRun outcome:refused run:<run id> (or a bare operation, outcome or run id)', 'aria-label': 'filter the audit log', value: state.auditFilter ?? '' }) as HTMLElement & { value: string };
  const error = el('div', { class: 'filter-error', role: 'alert', id: 'audit-error' });
  const body = el('div', { id: 'audit-table' });
  const newer = el('vscode-button', { id: 'audit-newer', secondary: '' }, '‹ Newer');
  const older = el('vscode-button', { id: 'audit-older', secondary: '' }, 'Older ›');
  const where = el('span', { class: 'count', id: 'audit-count' });
  const pager = el('div', { class: 'pager' });
  pager.append(newer, where, older);
  s.append(el('h2', {}, 'Audit log'), filter, error, body, pager);

  let timer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;
  const load = async (): Promise<void> => {
    const gen = ++generation;
    const parsed = parseAuditFilter(state.auditFilter ?? '');
    error.textContent = parsed.error ?? '';
    if (parsed.error) return;
    document.body.dataset.auditReady = 'false';
    const before = audit.stack[audit.stack.length - 1];
    try {
      const page = await transport.call({ kind: 'governanceAudit', ...parsed.filter, ...(before !== undefined ? { before } : {}), limit: AUDIT_PAGE }, { signal: transport.supersede('audit') });
      if (gen !== generation) return;
      audit.page = page;
      const first = (audit.stack.length - 1) * AUDIT_PAGE;
      where.textContent = page.rows.length ? `entries ${first + 1}–${first + page.rows.length}, newest first` : 'no entries';
      newer.toggleAttribute('disabled', audit.stack.length <= 1);
      older.toggleAttribute('disabled', page.nextBefore === undefined);
      body.replaceChildren(
        page.rows.length
          ? table(
              'audit',
              ['#', 'Time', 'Actor', 'Operation', 'Run', 'Target', 'Attribution', 'Outcome', 'Cost'],
              page.rows.map((r) => [
                String(r.seq),
                new Date(r.ts).toLocaleString(),
                r.actor,
                r.op,
                r.runId ? runLink(r.runId, r.runId.slice(0, 8)) : '',
                r.target,
                r.attribution,
                el('span', { class: `outcome outcome-${r.outcome}`, title: [r.reason, r.reverses ? `takes back entry #${r.reverses}` : ''].filter(Boolean).join(' — ') }, r.reverses ? `${r.outcome} (#${r.reverses})` : r.outcome),
                usd(r.costUsd),
              ]),
              [0, 8],
            )
          : el('p', { class: 'empty' }, 'No audit entries match.'),
      );
    } catch (err) {
      if (gen === generation && !isAbortError(err)) body.replaceChildren(el('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
    }
    if (gen === generation) document.body.dataset.auditReady = 'true';
  };
  filter.addEventListener('input', () => {
    state.auditFilter = filter.value;
    save();
    clearTimeout(timer);
    timer = setTimeout(() => {
      audit.stack = [undefined];
      void load();
    }, 250);
  });
  newer.addEventListener('click', () => {
    if (audit.stack.length <= 1) return;
    audit.stack.pop();
    void load();
  });
  older.addEventListener('click', () => {
    if (audit.page?.nextBefore === undefined) return;
    audit.stack.push(audit.page.nextBefore);
    void load();
  });
  audit.stack = [undefined];
  void load();
  return {
    section: s,
    // A live refresh shows new entries only on the first page: a later page stays where the reader is.
    reload: () => {
      if (audit.stack.length <= 1) void load();
    },
  };
}

/** Made once: the filter keeps its text and focus, and the page its place, across refreshes. */
let auditView: ReturnType<typeof auditSection> | undefined;

// --- page ------------------------------------------------------------------------------------

function turnOn(): HTMLElement {
  const s = el('section', { class: 'governance-off', id: 'governance-off' });
  s.append(el('h1', {}, 'Governance'), el('p', {}, 'Governance is off for this store: nothing is costed, budgeted or audited yet. To turn it on:'));
  const steps = el('ol');
  const yaml = ['budgets:', '  - {name: ml-daily, scope: {team: ml}, daily_usd: 5, mode: enforce}', 'policies:', '  require_tags: {tags: [owner], mode: warn}'].join('\n');
  const li1 = el('li', {}, 'Write the budgets and policies to ');
  li1.append(el('code', {}, '.runlens/governance.yaml'), ' in the workspace, for example:', el('pre', {}, yaml));
  const li2 = el('li', {}, 'In VS Code, run “Runlens: Restart Tracking Server” (the file is read when the server starts). Outside VS Code, run ');
  li2.append(el('code', {}, 'runlens serve --governance .runlens/governance.yaml'), '.');
  const li3 = el('li', {}, 'Check the setup with ');
  li3.append(el('code', {}, 'runlens governance check --governance .runlens/governance.yaml'), '. The README’s “Governance” section lists every option.');
  steps.append(li1, li2, li3);
  s.append(steps);
  return s;
}

let generation = 0;

async function load(): Promise<void> {
  const gen = ++generation;
  document.body.dataset.ready = 'false';
  let o: GovernanceOverview | { enabled: false };
  try {
    // Another grouping or period cancels the overview still loading.
    o = await transport.call({ kind: 'governanceOverview', groupBy: state.groupBy ?? 'team', days: state.days ?? 30 }, { signal: transport.supersede('overview') });
  } catch (err) {
    if (gen !== generation) return;
    if (isAbortError(err)) {
      if (!app.querySelector('header')) app.replaceChildren(cancelledNotice(() => void load()));
      document.body.dataset.ready = 'true';
      return;
    }
    app.replaceChildren(el('h1', {}, 'Governance'), el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
    document.body.dataset.ready = 'true';
    return;
  }
  if (gen !== generation) return;
  if (!o.enabled) {
    app.replaceChildren(turnOn());
    document.body.dataset.ready = 'true';
    return;
  }
  const header = el('header');
  header.append(el('h1', {}, 'Governance'));
  if (o.config) header.append(el('span', { class: 'config-source', title: 'configuration' }, o.config));
  const toolbar = el('div', { class: 'toolbar' });
  toolbar.append(
    select('group-by', 'Spend by', SPEND_GROUPS.map((g) => [g, GROUP_LABELS[g]]), o.groupBy, (v) => {
      state.groupBy = v as SpendGroup;
      save();
      void load();
    }),
    select('period', 'Period', PERIODS.map((d) => [String(d), `last ${d} days`]), String(state.days ?? 30), (v) => {
      state.days = Number(v);
      save();
      void load();
    }),
    el('span', { class: 'count' }, `${o.since} – ${o.until} (UTC)`),
  );

  const totals = el('div', { class: 'totals' });
  const total = el('div', { class: 'total-card' });
  total.append(el('div', { class: 'label' }, 'Total spend'), el('div', { class: 'value', id: 'total', 'data-usd': String(o.total.usd), title: o.total.cost }, usd(o.total.usd)));
  totals.append(total);
  for (const g of o.groups.slice(0, 6)) {
    const c = el('div', { class: 'total-card group-card', 'data-key': g.key });
    c.append(el('div', { class: 'label' }, g.key), el('div', { class: 'value', 'data-usd': String(g.usd), title: `${g.cost} · ${g.operations.toLocaleString()} operations` }, usd(g.usd)));
    totals.append(c);
  }

  const spend = el('section', { id: 'spend' });
  const spendChart = el('div', { class: 'spend-chart', id: 'spend-chart' });
  spend.append(el('h2', {}, `Spend per day by ${GROUP_LABELS[o.groupBy].toLowerCase()}`), o.spend.length ? spendChart : el('p', { class: 'empty' }, 'Nothing was spent in this period.'));

  const budgets = el('section', { id: 'budgets' });
  budgets.append(el('h2', {}, `Budgets (${o.budgets.length})`));
  const grid = el('div', { class: 'budget-grid' });
  const rendering: Promise<void>[] = [];
  grid.append(...o.budgets.map((b) => budgetCard(b, rendering)));
  budgets.append(o.budgets.length ? grid : el('p', { class: 'empty' }, 'No budgets are configured (budgets: in the governance file).'));

  const tops = el('div', { class: 'columns tops' });
  const topExp = el('section', { id: 'top-experiments' });
  topExp.append(
    el('h2', {}, 'Top experiments by cost'),
    o.topExperiments.length
      ? table('top-experiments', ['Experiment', 'Cost'], o.topExperiments.map((e) => [link(e.name, e.experimentId, () => transport.action('openRunsTable', [e.experimentId])), el('span', { title: e.cost }, usd(e.usd))]), [1])
      : el('p', { class: 'empty' }, 'None in this period.'),
  );
  const topRuns = el('section', { id: 'top-runs' });
  topRuns.append(
    el('h2', {}, 'Top runs by cost'),
    o.topRuns.length ? table('top-runs', ['Run', 'Own cost'], o.topRuns.map((r) => [runLink(r.runId, r.name), el('span', { title: r.cost }, usd(r.usd))]), [1]) : el('p', { class: 'empty' }, 'None in this period.'),
  );
  tops.append(topExp, topRuns);

  const fresh = auditView === undefined;
  auditView ??= auditSection();
  if (!fresh) auditView.reload();
  app.replaceChildren(header, toolbar, totals, spend, budgets, tops, violationsSection(o), auditView.section);
  if (o.spend.length) rendering.push(chart(spendChart, spendSpec(o)));
  await Promise.all(rendering);
  if (gen === generation) document.body.dataset.ready = 'true';
}

let timer: ReturnType<typeof setTimeout> | undefined;
transport.onPush((push) => {
  // Spend changes with every write: refresh at most every few seconds while runs log.
  if (push.kind !== 'runChanged' || timer) return;
  timer = setTimeout(() => {
    timer = undefined;
    void load();
  }, 5000);
});
void load();
