// The charts of a sweep in a real VS Code (code-server) webview, driven by Debian chromium: the
// charts panel opened on the sweep's parent (timed from the context-menu click to the first
// chart drawn with data), the pin in the title bar, panel reuse, and the sidebar's Plots view
// following the tree selection. Fails (exit 1) when an expected element does not appear.
// `CS_SHOTS_PORT` as for vscode-shots.js (this uses port + 5); timings go to test-results/.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./vscode-host');
const { seed, inWorkbench, rowIn, clickMenuItem, shoot } = require('./vscode-shots');

const PORT = Number(process.env.CS_SHOTS_PORT || 8091) + 5;

// Run later, while the charts are open, against the server the extension started for the workspace.
const FILL = `
import math, time, mlflow
from mlflow.entities import Metric
rid = open("warming_run_id.txt").read().strip()
client = mlflow.MlflowClient()
for part in range(4):
    now = int(time.time() * 1000)
    client.log_batch(rid, metrics=[Metric("train_loss", math.exp(-s / 40), now + s, s) for s in range(part * 50, part * 50 + 50)])
    time.sleep(1)
client.set_terminated(rid)
print("FILLED " + rid)
`;

const SWEEP = `
FILL = """${FILL}"""
import math, time, mlflow
from mlflow.entities import Metric
mlflow.set_experiment("rf-sweep")
client = mlflow.MlflowClient()
with mlflow.start_run(run_name="grid-search") as parent:
    for i in range(24):
        with mlflow.start_run(run_name=f"rf-{i:02d}", nested=True) as c:
            mlflow.log_params({"max_depth": None if i % 4 == 0 else i % 4 * 2, "max_features": ("sqrt", "log2", "auto")[i % 3]})
            now = int(time.time() * 1000)
            client.log_batch(c.info.run_id, metrics=[Metric("val_loss", math.exp(-s / (20 + i)), now + s, s) for s in range(200)])
            mlflow.log_metrics({"accuracy": 0.8 + 0.004 * i, "f1": 0.75 + 0.005 * i, "precision": 0.7 + 0.003 * i, "recall": 0.72 + 0.004 * i})
# A run that has logged nothing yet (left RUNNING): its charts must fill in as it logs.
run = mlflow.start_run(run_name="warming-up")
open("warming_run_id.txt", "w").write(run.info.run_id)
open("fill.py", "w").write(FILL)
open("NOTES.md", "w").write("# Sweep notes\\n\\nA random-forest grid search.\\n")
import os; os._exit(0)
`;


function report(line) {
  fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  fs.appendFileSync(path.join(ROOT, 'test-results', 'vscode-measurements.txt'), `${new Date().toISOString()} ${line}\n`);
  console.log(`measured: ${line}`);
}

/** The webview frame of the editor tab titled `title` (the active one). */
const webviewFrame = (page) => page.frameLocator('iframe.webview.ready >> nth=-1').frameLocator('iframe#active-frame');

/** Opens charts from a run's context menu; the time until the first chart is drawn with data. */
async function openCharts(page, label) {
  const row = rowIn(page);
  // A run's tooltip (a hover over the tree) can lie over the row and take the click: move away,
  // and try the context menu again if it did not open.
  const item = page.locator('.context-view .action-label', { hasText: 'Show Metric Charts' }).first();
  for (let attempt = 0; ; attempt++) {
    await page.mouse.move(1300, 880);
    await page.waitForTimeout(300);
    await row(label).click({ button: 'right', force: true });
    if (await item.waitFor({ timeout: 5_000 }).then(() => true, () => false)) break;
    if (attempt === 3) throw new Error(`no context menu on ${label}`);
    await page.keyboard.press('Escape');
  }
  // The clock starts at the click itself, not at the menu's animation the harness waits out.
  await page.waitForTimeout(300);
  const t0 = Date.now();
  await item.click({ timeout: 5000 }).catch(() => undefined);
  const closed = await page.locator('.context-view .action-label').first().waitFor({ state: 'hidden', timeout: 3000 }).then(() => true, () => false);
  if (!closed) await item.click({ timeout: 5000 });
  await page.locator('.tab', { hasText: `Metrics: ${label}` }).first().waitFor({ timeout: 30_000 });
  const chart = webviewFrame(page).locator('.chart[data-kind="curve"][data-rendered-at]').first();
  await chart.waitFor({ timeout: 60_000 });
  const points = Number(await chart.getAttribute('data-points'));
  const inPage = await webviewFrame(page).locator('body').getAttribute('data-ready-ms');
  return { ms: Date.now() - t0, points, inPage };
}
/** Opens a workspace Markdown file's built-in preview; the time from the command to its heading. */
async function openMarkdownPreview(page, file, heading) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(file);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: file }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
  await page.locator('.tab', { hasText: file }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').fill('>Markdown: Open Preview');
  await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Markdown: Open Preview' }).first().waitFor({ timeout: 10_000 });
  const t0 = Date.now();
  await page.keyboard.press('Enter');
  await webviewFrame(page).locator('h1', { hasText: heading }).first().waitFor({ timeout: 60_000 });
  return Date.now() - t0;
}

/** Opens charts on a run with no metrics yet: the view says so instead of drawing empty axes. */
async function openChartsOnEmpty(page, label) {
  const row = rowIn(page);
  await page.mouse.move(1300, 880);
  await row(label).click({ button: 'right', force: true });
  await clickMenuItem(page, 'Show Metric Charts');
  await page.locator('.tab', { hasText: `Metrics: ${label}` }).first().waitFor({ timeout: 30_000 });
  await webviewFrame(page).locator('.empty', { hasText: 'no metrics yet' }).first().waitFor({ timeout: 30_000 });
}

let workspaceDir = '';
const python = process.env.RUNLENS_TEST_PYTHON || path.join(ROOT, '.venv/latest/bin/python');

async function chartsViews(page) {
  const row = rowIn(page);
  await row('rf-sweep').waitFor({ timeout: 30_000 });
  await row('rf-sweep').click();
  await row('grid-search').waitFor({ timeout: 15_000 });
  await page.mouse.move(1300, 880);

  // VS Code's own cost of a window's first webview, for comparison: the built-in Markdown preview.
  const md = await openMarkdownPreview(page, 'NOTES.md', 'Sweep notes');
  report(`VS Code webview: the window's first webview, the built-in Markdown preview of a 3-line file, command → heading drawn: ${md} ms`);
  // The preview takes the file's tab (opened from Quick Open as a preview editor): close what is there.
  for (let i = 0; i < 3 && (await page.locator('.tab', { hasText: 'NOTES.md' }).count()); i++) {
    const tab = page.locator('.tab', { hasText: 'NOTES.md' }).first();
    await tab.hover();
    await tab.locator('.tab-actions .action-label').first().click();
    await page.waitForTimeout(300);
  }
  const first = await openCharts(page, 'grid-search');
  if (first.points < 24 * 200) throw new Error(`the sweep's curve has ${first.points} points, expected 24 × 200`);
  report(`VS Code webview: charts on the sweep parent (25 runs), the first charts panel (after that preview), context-menu click → first curve drawn: ${first.ms} ms (in-page ready ${first.inPage} ms after the webview's navigation)`);
  await page.mouse.move(1300, 880);
  await shoot(page, '16-charts-sweep-parent-webview');

  // Pin it from the title bar; the next run's charts open in a second panel.
  const pin = page.locator('.editor-actions .action-label[aria-label*="Keep Panel Open"]').first();
  await pin.waitFor({ timeout: 10_000 });
  await pin.click();
  await page.locator('.editor-actions .action-label[aria-label*="Unpin Panel"]').first().waitFor({ timeout: 10_000 });
  await shoot(page, '17-charts-pinned');
  const second = await openCharts(page, 'rf-03');
  report(`VS Code webview: charts on one child (second panel, warm), click → first curve drawn: ${second.ms} ms (in-page ready ${second.inPage} ms)`);
  // Not pinned: the next selection reuses it.
  const third = await openCharts(page, 'rf-07');
  report(`VS Code webview: charts on another child (reused panel), click → first curve drawn: ${third.ms} ms (in-page ready ${third.inPage} ms)`);
  const tabs = await page.locator('.tabs-container .tab').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') || e.textContent || ''));
  const chartTabs = tabs.filter((t) => /Metrics:/.test(t));
  if (chartTabs.length !== 2) throw new Error(`expected the pinned and one reused charts tab, got ${JSON.stringify(chartTabs)}`);
  // The tree's run tooltip from the right-click would lie over the chart: move away and let it go.
  await page.mouse.move(1300, 880);
  await page.keyboard.press('Escape');
  await page.locator('.monaco-hover, .workbench-hover').first().waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
  await shoot(page, '18-charts-reused-panel');

  // Live from empty: charts opened on a run that has logged nothing fill in as it logs.
  await openChartsOnEmpty(page, 'warming-up');
  // fill.py logs through the server the extension started for this workspace (its lock names it),
  // as any script run in an integrated terminal would.
  const owner = JSON.parse(fs.readFileSync(path.join(workspaceDir, 'mlruns', '.runlens', 'lock.json'), 'utf8'));
  let fillOutput = '';
  const fill = spawn(python, ['fill.py'], { cwd: workspaceDir, env: { ...process.env, MLFLOW_TRACKING_URI: owner.url, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } });
  fill.stdout.on('data', (d) => (fillOutput += d));
  fill.stderr.on('data', (d) => (fillOutput += d));
  const t0 = Date.now();
  const live = webviewFrame(page).locator('.chart[data-kind="curve"][data-key="train_loss"][data-rendered-at]').first();
  const drawn = await live.waitFor({ timeout: 60_000 }).then(() => true, () => false);
  if (!drawn) throw new Error(/FILLED/.test(fillOutput) ? 'fill.py logged its 200 points but the charts opened on the empty run never drew train_loss' : `fill.py did not finish logging: ${fillOutput}`);
  for (let i = 0; i < 120 && Number(await live.getAttribute('data-points')) < 200; i++) await page.waitForTimeout(500);
  const filled = Number(await live.getAttribute('data-points'));
  if (filled < 200) throw new Error(`the charts of a run that started empty show ${filled} of 200 points logged since`);
  report(`VS Code webview: charts opened on a run with no metrics filled in live: all 200 points drawn ${Date.now() - t0} ms after the script was started`);
  await page.mouse.move(1300, 400);
  await shoot(page, '18b-charts-live-fill-from-empty');

  // The sidebar's Plots view follows the selection.
  await page.locator('.pane-header', { hasText: 'Plots' }).first().click();
  await row('rf-05').click();
  // A sidebar webview's iframe is laid over the workbench, not inside its pane: find it by content.
  const plotted = async () => {
    for (const f of page.frames()) if (await f.locator('body[data-rendered-at] .plot-small[data-key="val_loss"]').count().catch(() => 0)) return f;
    return undefined;
  };
  let frame;
  for (let i = 0; i < 120 && !(frame = await plotted()); i++) await page.waitForTimeout(500);
  if (!frame) throw new Error('the Plots view did not draw the selected run');
  if ((await frame.locator('.plots-title').innerText()) !== 'rf-05') throw new Error('the Plots view does not show the selected run');
  // Give the Plots view the sidebar's height for the picture (it redraws to its new size).
  await page.locator('.pane-header', { hasText: 'Experiments' }).first().click();
  await page.waitForTimeout(1500);
  await shoot(page, '19-plots-view-selection');
}

async function main() {
  await inWorkbench('shots-charts', PORT, python, (workspace) => {
    workspaceDir = workspace;
    return seed(workspace, python, SWEEP);
  }, chartsViews);
}

main().catch((err) => {
  console.error(`screenshots failed: ${err.stack || err}`);
  process.exit(1);
});
