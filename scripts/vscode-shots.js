// Screenshots of the extension in a real VS Code (code-server) driven by Debian chromium: the
// explorer with a nested run tree, the hover tooltip, and the diff editor on two runs. The store is
// seeded first by the real mlflow client through `runlens serve`. Fails (exit 1) when an expected
// element does not appear, so CI catches a broken UI; PNGs land in test-results/screenshots/.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startCodeServer, workbenchUrl, launchBrowser, newRunDir, removeRunDir } = require('./vscode-host');

const PORT = Number(process.env.CS_SHOTS_PORT || 8091);
const OUT = path.join(ROOT, 'test-results', 'screenshots');

const SEED = `
import mlflow
mlflow.set_experiment("churn-sweep")
with mlflow.start_run(run_name="sweep") as parent:
    mlflow.log_param("model", "gbm")
    for i, (lr, depth) in enumerate(((0.1, 3), (0.05, 4), (0.02, 6))):
        with mlflow.start_run(run_name=f"gbm-lr{lr}-d{depth}", nested=True) as child:
            mlflow.log_params({"lr": lr, "depth": depth, "n_estimators": 200})
            for step in range(30):
                mlflow.log_metric("val_auc", 0.70 + 0.2 * (1 - (0.9 - lr) ** (step + 1)) - 0.01 * i, step=step)
            mlflow.set_tag("dataset", "churn-2026-11")
            mlflow.log_text("feature,importance\\ntenure,0.41\\n", "importance.csv")
mlflow.set_experiment("baseline-models")
for name, c in (("logreg-C1", 1.0), ("logreg-C0.1", 0.1)):
    with mlflow.start_run(run_name=name):
        mlflow.log_params({"C": c, "penalty": "l2", "solver": "lbfgs"})
        mlflow.log_metrics({"val_auc": 0.81 if c == 1.0 else 0.79, "train_auc": 0.84})
        mlflow.set_tag("dataset", "churn-2026-11")
mlflow.set_experiment("support-bot")

@mlflow.trace(span_type="RETRIEVER")
def lookup(q):
    return ["faq.md#refunds"]

@mlflow.trace(span_type="LLM")
def answer(q, docs):
    mlflow.get_current_active_span().set_attribute("mlflow.chat.tokenUsage", {"input_tokens": 420, "output_tokens": 38, "total_tokens": 458})
    return "Refunds reach your card within 5 working days."

@mlflow.trace(name="support_turn", span_type="AGENT")
def turn(q):
    mlflow.update_current_trace(metadata={"mlflow.trace.session": "ticket-88"})
    return answer(q, lookup(q))

for q in ("How do refunds work?", "How long do they take?"):
    turn(q)
if hasattr(mlflow, "flush_trace_async_logging"):
    mlflow.flush_trace_async_logging()
mlflow.set_experiment("baseline-models")
run = mlflow.start_run(run_name="still-training")
mlflow.log_metric("val_auc", 0.5)
import os; os._exit(0)  # leaves it RUNNING, as a live run looks
`;

async function seed(workspace, python, script = SEED) {
  const root = path.join(workspace, 'mlruns');
  const server = spawn(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'serve', '--root', root, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    server.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    server.on('exit', (c) => reject(new Error(`runlens serve exited with ${c}`)));
  });
  fs.writeFileSync(path.join(workspace, 'train.py'), script);
  execFileSync(python, ['train.py'], { cwd: workspace, env: { ...process.env, MLFLOW_TRACKING_URI: url }, stdio: 'ignore' });
  server.kill('SIGTERM');
  await new Promise((r) => server.on('exit', r));
}

const vsixArg = process.argv.indexOf('--vsix');
const VSIX = vsixArg > 0 ? path.resolve(process.argv[vsixArg + 1]) : undefined;

/** Opens a workbench on `workspace` with the extension (development folder, or the installed VSIX). */
async function openWorkbench(runDir, workspace, python, port) {
  const server = await startCodeServer({
    port,
    folder: workspace,
    runDir,
    vsix: VSIX ? [VSIX] : [],
    settings: { 'workbench.colorTheme': process.env.SHOTS_THEME || 'Default Dark Modern', 'runlens.python.path': python },
  });
  const browser = await launchBrowser(path.join(runDir, 'chromium'));
  const page = browser.pages()[0] || (await browser.newPage());
  await page.goto(workbenchUrl(server, workspace, VSIX ? undefined : ROOT));
  const activity = page.locator('.activitybar [aria-label*="Runlens"]').first();
  await activity.waitFor({ timeout: 60_000 });
  await activity.click();
  return { server, browser, page };
}

/** `asks`: the command opens inputs of its own, so the quick input stays open. */
async function palette(page, command, asks = false) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`>${command}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Enter');
  if (asks) await page.locator('.quick-input-widget .quick-input-title', { hasText: 'URL' }).first().waitFor({ timeout: 10_000 });
  else await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** Closes the active editor with its tab's close button (F1 is the webview's while it has focus). */
async function closeActiveTab(page) {
  const tab = page.locator('.tab.active').first();
  const label = await tab.getAttribute('aria-label');
  await tab.hover();
  await tab.locator('.tab-actions .action-label').first().click();
  await page.locator(`.tab[aria-label="${label}"]`).waitFor({ state: 'detached', timeout: 10_000 });
}

/** Clicks a context-menu entry; the menu animates in, so a first click can land on nothing. */
async function clickMenuItem(page, label) {
  const item = page.locator('.context-view .action-label', { hasText: label }).first();
  await item.waitFor({ timeout: 10_000 });
  await page.waitForTimeout(300);
  await item.click({ timeout: 5000 }).catch(() => undefined);
  const closed = await page.locator('.context-view .action-label').first().waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false);
  if (!closed) await item.click({ timeout: 5000 });
}

// Exact label match (text="…"), so 'sweep' does not also match 'churn-sweep'.
const rowIn = (page) => (label) => page.locator('.monaco-list-row').filter({ has: page.locator(`.label-name >> text="${label}"`) }).first();

/** Opens a tree row by its twistie: a click on the label selects it and may run its command instead. */
/**
 * Expands a tree row. A click that lands while the tree re-renders the row (a source refreshing
 * as its store comes up) is lost, so it is clicked again until the row says it is expanded.
 */
async function expandRow(row) {
  for (let attempt = 0; attempt < 4; attempt++) {
    if ((await row.getAttribute('aria-expanded')) === 'true') return;
    const twistie = row.locator('.monaco-tl-twistie');
    await twistie.click();
    // Expanded at once, or its children loading (the twistie spins): either way the click took.
    const took = async () => (await row.getAttribute('aria-expanded')) === 'true' || /loading/.test((await twistie.getAttribute('class')) ?? '');
    for (let i = 0; i < 20 && !(await took()); i++) await row.page().waitForTimeout(250);
    if (await took()) {
      for (let i = 0; i < 240 && (await row.getAttribute('aria-expanded')) !== 'true'; i++) await row.page().waitForTimeout(250);
    }
  }
  if ((await row.getAttribute('aria-expanded')) !== 'true') throw new Error('the tree row did not expand after 4 clicks');
}

async function shoot(page, name) {
  const file = path.join(OUT, `${name}.png`);
  await page.waitForTimeout(600);
  await page.screenshot({ path: file });
  console.log(`screenshot ${path.relative(ROOT, file)}`);
}

/**
 * One workbench session on a fresh workspace: `prepare(workspace)` seeds it before code-server
 * starts, `drive(page)` takes the screenshots. A failure leaves `zz-failure-<name>.png`; the run
 * folder is removed unless KEEP_RUN_DIR is set.
 */
async function inWorkbench(name, port, python, prepare, drive) {
  const runDir = newRunDir(name);
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  await prepare(workspace);
  const { server, browser, page } = await openWorkbench(runDir, workspace, python, port);
  try {
    await drive(page);
  } catch (err) {
    await page.screenshot({ path: path.join(OUT, `zz-failure-${name}.png`) }).catch(() => undefined);
    throw err;
  } finally {
    await browser.close().catch(() => undefined);
    await server.stop();
  }
  if (!process.env.KEEP_RUN_DIR) removeRunDir(runDir);
}

/** A first-time user: empty store → welcome view → sample script → run it from the editor → live tree. */
async function firstRun(page) {
  const row = rowIn(page);
  const create = page.locator('.welcome-view-content a', { hasText: 'Log a First Run' }).first();
  await create.waitFor({ timeout: 30_000 });
  await shoot(page, '00-welcome-empty-store');
  await create.click();
  await page.locator('.tab', { hasText: 'runlens_sample.py' }).first().waitFor({ timeout: 15_000 });
  await palette(page, 'Runlens: Run Python File with Tracking');
  await row('runlens-sample').waitFor({ timeout: 60_000 });
  await row('runlens-sample').click();
  await row('lr=0.01').waitFor({ timeout: 60_000 });
  await page.locator('.terminal-wrapper, .xterm').first().waitFor({ timeout: 15_000 });
  await page.mouse.move(1300, 880);
  await shoot(page, '01-sample-run-from-editor');
}

/** A seeded store: nested tree, tooltip, context menu, diff, and the charts, runs table and run page webviews. */
async function seededViews(page) {
  const shot = (name) => shoot(page, name);
  const row = rowIn(page);
  await row('churn-sweep').waitFor({ timeout: 30_000 });
  await row('churn-sweep').click();
  await row('baseline-models').click();
  await row('gbm-lr0.05-d4').waitFor({ timeout: 15_000 });
  await row('still-training').waitFor({ timeout: 15_000 });
  // Nested: the children sit one level deeper than their parent.
  const level = async (label) => Number(await row(label).getAttribute('aria-level'));
  if ((await level('gbm-lr0.05-d4')) !== (await level('sweep')) + 1) throw new Error('child runs are not nested under their parent');
  await row('gbm-lr0.1-d3').click();
  // A click previews the run page beside the tree and leaves the focus in the tree: ArrowDown moves there.
  await page.locator('.tab', { hasText: 'Run: gbm-lr0.1-d3' }).first().waitFor({ timeout: 20_000 });
  const previewed = page.frameLocator('iframe.webview.ready:visible >> nth=-1').frameLocator('iframe#active-frame');
  await previewed.locator('body[data-artifacts-listed]').waitFor({ timeout: 30_000 });
  await shot('02-explorer-nested-runs');
  await page.keyboard.press('ArrowDown');
  const inTree = await page.evaluate(() => Boolean(document.activeElement && document.activeElement.closest('.monaco-list') && document.activeElement.closest('.pane-body')));
  if (!inTree) throw new Error('the click on a run moved the focus out of the tree');
  await shot('02b-explorer-click-previews-run-page');

  await row('gbm-lr0.05-d4').hover();
  await page.locator('.monaco-hover, .workbench-hover').first().waitFor({ timeout: 10_000 });
  await shot('03-run-tooltip');
  await page.mouse.move(900, 700);

  // Diff two runs: select both in the tree, then the context menu command.
  await row('logreg-C1').click();
  await row('logreg-C0.1').click({ modifiers: ['Control'] });
  await row('logreg-C0.1').click({ button: 'right' });
  const item = page.locator('.context-view .action-label', { hasText: 'Diff Two Runs in Editor' }).first();
  await item.waitFor({ timeout: 10_000 });
  await shot('04-run-context-menu');
  await item.click();
  await page.mouse.move(1300, 880);
  await page.locator('.monaco-diff-editor').first().waitFor({ timeout: 20_000 });
  await page.locator('.monaco-diff-editor .line-insert, .monaco-diff-editor .char-insert').first().waitFor({ timeout: 20_000 });
  await shot('05-diff-two-runs');

  // Metric charts in a real webview (strict CSP, bundle from dist/webview), for the sweep's children.
  await row('gbm-lr0.1-d3').click();
  await row('gbm-lr0.05-d4').click({ modifiers: ['Control'] });
  await row('gbm-lr0.02-d6').click({ modifiers: ['Control'] });
  await row('gbm-lr0.02-d6').click({ button: 'right' });
  await clickMenuItem(page, 'Show Metric Charts');
  await page.mouse.move(1300, 880);
  const frame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  const chart = frame.locator('.chart[data-key="val_auc"][data-rendered-at]');
  await chart.waitFor({ timeout: 30_000 });
  if ((await chart.getAttribute('data-series')) !== '3') throw new Error('the chart does not show the three runs');
  await shot('06-metric-charts-webview');

  // The runs table for an experiment, from its context menu.
  await row('churn-sweep').click({ button: 'right' });
  await clickMenuItem(page, 'Open Runs Table');
  await page.mouse.move(1300, 880);
  const tableFrame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  await tableFrame.locator('.tr .run-link', { hasText: 'gbm-lr0.05-d4' }).waitFor({ timeout: 30_000 });
  await shot('07-runs-table-webview');
  // Scrolled sideways in a narrower window (the table overflows it): rows stay as wide as the
  // header and the run names stay pinned.
  await page.setViewportSize({ width: 900, height: 900 });
  await page.waitForTimeout(1000);
  const sideways = await tableFrame.locator('.runs-grid').evaluate((g) => {
    g.scrollLeft = g.scrollWidth;
    const row = g.querySelector('.tr[data-run]');
    return { left: g.scrollLeft, head: g.querySelector('.thead').getBoundingClientRect().width, row: row ? row.getBoundingClientRect().width : 0 };
  });
  if (sideways.left <= 0) throw new Error('the runs table does not overflow a 900 px window, so the sideways picture would show nothing');
  if (Math.round(sideways.row) !== Math.round(sideways.head)) throw new Error(`scrolled sideways, a row is ${sideways.row} px wide and the header ${sideways.head} px`);
  await page.mouse.move(600, 760);
  await shot('07b-runs-table-scrolled-sideways');
  await page.setViewportSize({ width: 1400, height: 900 });
  await page.waitForTimeout(800);

  // Keyboard: the arrows move the table's cursor and Enter opens that run's page.
  await tableFrame.locator('.runs-grid').focus();
  await page.keyboard.press('Home');
  await page.keyboard.press('ArrowDown');
  const cursorName = (await tableFrame.locator('.tr.cursor .run-link').innerText()).replace(/^[^A-Za-z0-9]+/, '');
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: cursorName }).first().waitFor({ timeout: 30_000 });
  await closeActiveTab(page);

  // The sort chosen in the table survives closing it: reopened, it sorts the same way.
  const sortCol = await tableFrame.locator('.th.sortable[data-col^="metrics."]').first().getAttribute('data-col');
  await tableFrame.locator(`.th[data-col="${sortCol}"]`).click();
  await tableFrame.locator(`.th[data-col="${sortCol}"][aria-sort]`).waitFor({ timeout: 15_000 });
  const sorted = await tableFrame.locator(`.th[data-col="${sortCol}"]`).getAttribute('aria-sort');
  await closeActiveTab(page);
  await row('churn-sweep').click({ button: 'right' });
  await clickMenuItem(page, 'Open Runs Table');
  await page.mouse.move(1300, 880);
  await tableFrame.locator('.tr .run-link', { hasText: 'gbm-lr0.05-d4' }).waitFor({ timeout: 30_000 });
  const again = await tableFrame.locator(`.th[data-col="${sortCol}"]`).getAttribute('aria-sort');
  if (again !== sorted) throw new Error(`reopened, the runs table sorts ${sortCol} ${again}; it was ${sorted} when closed`);

  // A run link in the table opens the run page (view → host action → another webview).
  await tableFrame.locator('.tr .run-link', { hasText: 'gbm-lr0.1-d3' }).click();
  // The run was previewed from the tree before, so its page is revealed rather than opened anew: the visible webview.
  const runFrame = page.frameLocator('iframe.webview.ready:visible >> nth=-1').frameLocator('iframe#active-frame');
  await runFrame.locator('body[data-artifacts-listed]').waitFor({ timeout: 30_000 });
  await runFrame.locator('.art-file[data-path="importance.csv"] a').click();
  await runFrame.locator('.preview[data-kind="table"]').waitFor({ timeout: 15_000 });
  await shot('08-run-page-webview');

  // Traces: the experiment's traces list, then one trace in the viewer (a view → host action).
  await row('support-bot').click();
  await page.locator('.monaco-list-row', { hasText: '2 traces' }).first().waitFor({ timeout: 15_000 });
  await row('support-bot').click({ button: 'right' });
  await clickMenuItem(page, 'Open Traces');
  await page.mouse.move(1300, 880);
  const tracesFrame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  await tracesFrame.locator('.trace-row').first().waitFor({ timeout: 30_000 });
  if ((await tracesFrame.locator('.trace-row').count()) !== 2) throw new Error('the traces list does not show the two traces');
  await shot('09-traces-webview');
  await tracesFrame.locator('.trace-row .col-request', { hasText: 'How do refunds work?' }).click();
  const traceFrame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  await traceFrame.locator('.span-row .label', { hasText: 'answer' }).click();
  await traceFrame.locator('#span-facts').waitFor({ timeout: 30_000 });
  const levels = await traceFrame.locator('.span-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-level')).join(','));
  if (levels !== '1,2,2') throw new Error(`unexpected span tree levels ${levels}`);
  await shot('10-trace-viewer-webview');
}

/** An mlflow.db the real client wrote, beside a seeded Runlens store: both sources in the explorer. */
async function seedWithMlflowDb(workspace, python) {
  await seed(workspace, python);
  const scratch = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'runlens-shots-db-'));
  const { mlflowDbSeedScript } = require(path.join(ROOT, 'out/test/support/mlflowDbSeed.js'));
  fs.writeFileSync(path.join(scratch, 'seed.py'), mlflowDbSeedScript(path.join(workspace, 'mlflow.db')));
  execFileSync(python, ['seed.py'], { cwd: scratch, env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' }, stdio: 'ignore' });
  fs.rmSync(scratch, { recursive: true, force: true });
}

async function sourcesView(page) {
  const row = rowIn(page);
  await row('Workspace store').waitFor({ timeout: 30_000 });
  await row('mlflow.db').waitFor({ timeout: 30_000 });
  await expandRow(row('mlflow.db'));
  await row('legacy-churn').waitFor({ timeout: 30_000 });
  await expandRow(row('legacy-churn'));
  await row('xgb-lr0.1').waitFor({ timeout: 30_000 });
  await row('churn-sweep').waitFor({ timeout: 30_000 });
  await row('xgb-lr0.03').hover();
  await page.mouse.move(1300, 880);
  await shoot(page, '11-explorer-sources');
  await row('xgb-lr0.03').click({ button: 'right' });
  await page.locator('.context-view .action-label', { hasText: 'Show Metric Charts' }).first().waitFor({ timeout: 10_000 });
  await shoot(page, '12-readonly-run-context-menu');
  await page.keyboard.press('Escape');
  await row('mlflow.db').click({ button: 'right' });
  await page.locator('.context-view .action-label', { hasText: 'Import into Runlens' }).first().waitFor({ timeout: 10_000 });
  await shoot(page, '13-import-store-context-menu');
  await clickMenuItem(page, 'Import into Runlens');
  // The imported experiments appear under "Workspace store" too (the first legacy-churn row is then the workspace's).
  const rows = page.locator('.monaco-list-row').filter({ has: page.locator('.label-name >> text="legacy-churn"') });
  for (let i = 0; i < 120 && (await rows.count()) < 2; i++) await page.waitForTimeout(500);
  if ((await rows.count()) < 2) throw new Error('the imported experiment does not show in the workspace store');
  await page.mouse.move(1300, 880);
  await shoot(page, '14-after-import');
}

/** A legacy MLflow file store in mlruns/ (the client's file: store): Runlens moves aside to .runlens-store/ and says so. */
async function seedLegacyMlruns(workspace, python) {
  const script = 'import mlflow\nmlflow.set_tracking_uri("file:./mlruns")\nmlflow.set_experiment("old-file-store")\nwith mlflow.start_run(run_name="rf-100"):\n    mlflow.log_metric("acc", 0.9)\n';
  fs.writeFileSync(path.join(workspace, 'legacy.py'), script);
  execFileSync(python, ['legacy.py'], { cwd: workspace, env: { ...process.env, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true', MLFLOW_ALLOW_FILE_STORE: 'true' }, stdio: 'ignore' });
}

async function displacedView(page) {
  const row = rowIn(page);
  await row('Workspace store').waitFor({ timeout: 30_000 });
  await row('mlruns').waitFor({ timeout: 30_000 });
  await expandRow(row('mlruns'));
  await row('old-file-store').waitFor({ timeout: 30_000 });
  await expandRow(row('old-file-store'));
  await row('rf-100').waitFor({ timeout: 30_000 });
  // The harness's workbench keeps notifications in the center (no toasts): open it to show the notice.
  await palette(page, 'Notifications: Show Notifications');
  await page.locator('.notifications-center', { hasText: 'never writes into mlruns' }).first().waitFor({ timeout: 30_000 });
  await page.mouse.move(1300, 880);
  await shoot(page, '15-legacy-mlruns-displaced');
}

// An MLflow 3 logged model, registered, with an alias: the Models tree, the version page, the run page's Models section.
const MODELS_SEED = `
import mlflow, pandas as pd
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
mlflow.set_experiment("iris")
X = pd.DataFrame({"sepal_length": [5.1, 4.9, 6.2, 5.9], "sepal_width": [3.5, 3.0, 2.9, 3.0]})
with mlflow.start_run(run_name="train-logreg"):
    mlflow.log_param("C", 1.0)
    info = mlflow.sklearn.log_model(LogisticRegression().fit(X, [0, 0, 1, 1]), name="iris", input_example=X.iloc[:2], registered_model_name="iris-clf")
    mlflow.log_metric("val_acc", 0.875, model_id=info.model_id)
MlflowClient().set_registered_model_alias("iris-clf", "champion", "1")
MlflowClient().update_model_version("iris-clf", "1", "Logistic regression on **iris**.")
`;

async function modelsView(page) {
  const row = rowIn(page);
  // The Models view starts collapsed under the explorer: open it.
  const header = page.locator('.pane-header', { hasText: 'Models' }).first();
  await header.waitFor({ timeout: 30_000 });
  if ((await header.getAttribute('aria-expanded')) !== 'true') await header.click();
  await row('iris-clf').waitFor({ timeout: 30_000 });
  await row('iris-clf').click();
  await row('Version 1').waitFor({ timeout: 15_000 });
  await row('Version 1').click({ button: 'right' });
  await page.locator('.context-view .action-label', { hasText: 'Set Model Version Alias' }).first().waitFor({ timeout: 10_000 });
  await shoot(page, '16-model-version-context-menu');
  await page.keyboard.press('Escape');
  await row('Version 1').click();
  const frame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  await frame.locator('#lineage .lineage-step[data-kind="Logged model"]').waitFor({ timeout: 30_000 });
  await page.mouse.move(1300, 880);
  await shoot(page, '17-model-version-page-webview');
  await frame.locator('#lineage-run').click();
  const runFrame = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
  await runFrame.locator('#run-models[data-loaded="1"]').waitFor({ timeout: 30_000 });
  await runFrame.locator('#run-models').scrollIntoViewIfNeeded();
  await shoot(page, '18-run-page-models-webview');
}

/** The Welcome page walkthrough, opened from the palette as a new user would find it. */
async function walkthroughView(page) {
  await palette(page, 'Runlens: Get Started with Runlens');
  await page.locator('.gettingStartedContainer', { hasText: 'Log a first run' }).first().waitFor({ timeout: 30_000 });
  await page.locator('.getting-started-step', { hasText: 'Log a first run' }).first().click().catch(() => undefined);
  await page.mouse.move(1300, 880);
  await shoot(page, '16-walkthrough');
}

const ANALYSIS_LINES = ['import mlflow', '', 'runs = mlflow.search_runs(filter_string="val_auc > 0.8 and metrics.")', 'best = mlflow.search_runs(filter_string="metrics.val_auc > 0.75", order_by=["metrics.val_auc DESC"])', 'mlflow.set_experiment("churn-sweep")', 'mlflow.log_text(report, "importance.csv")', ''];

/** Puts the cursor at a 1-based line and column with Go to Line. */
async function goTo(page, line, column) {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor();
  await input.fill(`:${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

/** The language server in a Python file: a bad filter in Problems, key completion, a hover with values. */
async function languageViews(page) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill('analysis.py');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'analysis.py' }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.monaco-editor .squiggly-error').first().waitFor({ timeout: 60_000 });
  await palette(page, 'View: Focus Problems');
  await page.locator('.markers-panel', { hasText: 'did you mean' }).first().waitFor({ timeout: 30_000 });
  await shoot(page, '40-lsp-filter-problems');
  const line3 = ANALYSIS_LINES[2];
  await goTo(page, 3, line3.indexOf('metrics."') + 'metrics.'.length + 1);
  await page.keyboard.press('Control+Space');
  await page.locator('.suggest-widget .monaco-list-row', { hasText: 'val_auc' }).first().waitFor({ timeout: 30_000 });
  await shoot(page, '41-lsp-key-completion');
  await page.keyboard.press('Escape');
  await goTo(page, 4, ANALYSIS_LINES[3].indexOf('metrics.val_auc') + 12);
  await palette(page, 'Show or Focus Hover');
  await page.locator('.monaco-hover', { hasText: 'runs' }).first().waitFor({ timeout: 30_000 });
  await shoot(page, '42-lsp-key-hover');
  // An artifact path: which of the experiment's recent runs hold that file.
  await page.keyboard.press('Escape');
  await goTo(page, 6, ANALYSIS_LINES[5].indexOf('importance.csv') + 4);
  await palette(page, 'Show or Focus Hover');
  await page.locator('.monaco-hover', { hasText: 'most recent runs' }).first().waitFor({ timeout: 30_000 });
  await shoot(page, '43-lsp-artifact-hover');
  // The run names in the hover are links to their pages.
  const link = page.locator('.monaco-hover a', { hasText: 'gbm-' }).first();
  const runName = await link.innerText();
  await link.click();
  await page.locator('.tab', { hasText: `Run: ${runName}` }).first().waitFor({ timeout: 30_000 });
}

/** Types an answer into the open quick input (input box or quick pick) and accepts it. */
async function answer(page, text, title) {
  if (title) await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).first().waitFor({ timeout: 10_000 });
  const input = page.locator('.quick-input-widget input').first();
  await input.waitFor({ timeout: 10_000 });
  await page.waitForTimeout(200);
  await input.fill(text);
  await page.waitForTimeout(200);
  await page.keyboard.press('Enter');
}

/** A basic-auth team server with a few runs of its own (seeded by the real client, signed in). */
async function startTeamServer(python) {
  const { startBasicAuthMlflow } = require(path.join(ROOT, 'out/test/support/basicAuthMlflow.js'));
  const team = await startBasicAuthMlflow();
  const script = `
import mlflow
mlflow.set_experiment("team-baselines")
for name, n in (("rf-200", 200), ("rf-500", 500)):
    with mlflow.start_run(run_name=name):
        mlflow.log_param("n_estimators", n)
        mlflow.log_metric("val_auc", 0.8 + n / 10000)
        for step in range(120):
            mlflow.log_metric("val_loss", 1.0 / (1 + step * n / 5000), step=step)
`;
  execFileSync(python, ['-c', script], { env: { ...process.env, MLFLOW_TRACKING_URI: team.url, MLFLOW_TRACKING_USERNAME: team.username, MLFLOW_TRACKING_PASSWORD: team.password, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' }, stdio: 'ignore' });
  return team;
}

/** "Add MLflow Server…" answered through its inputs, the team server browsed, a workspace run published to it. */
function remoteView(team) {
  return async (page) => {
    const row = rowIn(page);
    await row('baseline-models').waitFor({ timeout: 30_000 });
    await palette(page, 'Runlens: Add MLflow Server…', true);
    await answer(page, team.url, 'URL');
    await answer(page, 'team', 'name in the explorer');
    await answer(page, 'Username and password', 'authentication');
    await answer(page, team.username, 'team: username');
    await answer(page, team.password, 'team: password');
    await row('Workspace store').waitFor({ timeout: 30_000 });
    await row('team').waitFor({ timeout: 30_000 });
    await expandRow(row('team'));
    await row('team-baselines').waitFor({ timeout: 30_000 });
    await expandRow(row('team-baselines'));
    await row('rf-500').waitFor({ timeout: 30_000 });
    await row('baseline-models').click();
    await row('logreg-C1').waitFor({ timeout: 30_000 });
    await page.mouse.move(1300, 880);
    await shoot(page, '16-explorer-team-server');
    // Charts of a team server's run: MLflow's own server has no Runlens routes, so the history
    // comes from get-history and is downsampled in the extension.
    await row('rf-500').click({ button: 'right' });
    await clickMenuItem(page, 'Show Metric Charts');
    await page.locator('.tab', { hasText: 'Metrics: rf-500' }).first().waitFor({ timeout: 30_000 });
    const charts = page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');
    const curve = charts.locator('.chart[data-kind="curve"][data-key="val_loss"][data-rendered-at]').first();
    await curve.waitFor({ timeout: 60_000 });
    if (Number(await curve.getAttribute('data-points')) !== 120) throw new Error(`the team server's val_loss chart has ${await curve.getAttribute('data-points')} points, expected 120`);
    await page.mouse.move(1300, 880);
    await shoot(page, '16b-team-server-charts');
    await closeActiveTab(page);
    await row('logreg-C1').click({ button: 'right' });
    await page.locator('.context-view .action-label', { hasText: 'Publish to…' }).first().waitFor({ timeout: 10_000 });
    await shoot(page, '17-publish-to-context-menu');
    await clickMenuItem(page, 'Publish to…');
    // The published run's experiment appears under the team server too.
    const rows = page.locator('.monaco-list-row').filter({ has: page.locator('.label-name >> text="baseline-models"') });
    for (let i = 0; i < 120 && (await rows.count()) < 2; i++) await page.waitForTimeout(500);
    if ((await rows.count()) < 2) throw new Error('the published experiment does not show under the team server');
    await palette(page, 'Notifications: Show Notifications');
    await page.locator('.notifications-center', { hasText: 'published to team' }).first().waitFor({ timeout: 30_000 });
    await page.mouse.move(1300, 880);
    await shoot(page, '18-after-publish');
  };
}

async function main() {
  const t0 = Date.now();
  const python = process.env.RUNLENS_TEST_PYTHON || path.join(ROOT, '.venv/latest/bin/python');
  fs.mkdirSync(OUT, { recursive: true });
  const only = process.env.SHOTS_ONLY;
  if (!only || only === 'first') await inWorkbench('shots-first', PORT + 1, python, async () => undefined, firstRun);
  if (!only || only === 'walkthrough') await inWorkbench('shots-walkthrough', PORT + 4, python, async () => undefined, walkthroughView);
  if (!only || only === 'seeded') await inWorkbench('shots', PORT, python, (workspace) => seed(workspace, python), seededViews);
  if (!only || only === 'displaced') await inWorkbench('shots-displaced', PORT + 3, python, (workspace) => seedLegacyMlruns(workspace, python), displacedView);
  if (!only || only === 'language')
    await inWorkbench('shots-language', PORT, python, async (workspace) => {
      await seed(workspace, python);
      fs.writeFileSync(path.join(workspace, 'analysis.py'), ANALYSIS_LINES.join('\n'));
    }, languageViews);
  if (!only || only === 'sources') await inWorkbench('shots-sources', PORT + 2, python, (workspace) => seedWithMlflowDb(workspace, python), sourcesView);
  if (!only || only === 'models') await inWorkbench('shots-models', PORT + 4, python, (workspace) => seed(workspace, python, MODELS_SEED), modelsView);
  if (!only || only === 'remote') {
    const team = await startTeamServer(python);
    try {
      await inWorkbench('shots-remote', PORT + 4, python, (workspace) => seed(workspace, python), remoteView(team));
    } finally {
      await team.stop();
    }
  }
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] screenshots done`);
}

// Other screenshot scripts (vscode-shots-charts.js) drive their scenarios with the same helpers.
module.exports = { seed, inWorkbench, rowIn, clickMenuItem, closeActiveTab, shoot, palette, OUT };

if (require.main === module) {
  main().catch((err) => {
    console.error(`screenshots failed: ${err.stack || err}`);
    process.exit(1);
  });
}
