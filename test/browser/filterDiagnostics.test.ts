// The views' filter boxes check filters as you type with the shared parser (webview/filterDiagnostics.ts):
// each problem with its column and a did-you-mean, the broken part marked, before anything is sent.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { seededServer, SHOTS, type SeededServer } from '../support/browserTests';

const SEED = `
import mlflow
exp = mlflow.set_experiment("filter-boxes")
with mlflow.start_run(run_name="one"):
    mlflow.log_metric("accuracy", 0.9)
    mlflow.log_param("lr", "0.1")
print(f"EXP={exp.experiment_id}")
`;

describe('filter diagnostics in the views', function () {
  this.timeout(180_000);
  let seeded: SeededServer;
  let exp: string;
  before(async () => {
    seeded = await seededServer('runlens-filterbox-', SEED);
    exp = /EXP=(\S+)/.exec(seeded.seedOutput)![1]!;
  });
  after(async () => seeded?.close());

  for (const [view, typed, expected] of [
    ['runs', 'accuracy > 0.9 and params.lr > 1', [/column 1: 'accuracy' is not an attribute of runs: did you mean `metrics\.accuracy`\?/, /column 30: '>' does not work on params; use =, !=, LIKE, ILIKE/, /column 32: params are strings: quote the value, '1'/]],
    ['traces', "status = 'OK' and span.typ = 'LLM' or tag.x", [/span\.typ' is not searchable.*did you mean `span\.type`/, /'OR' is not supported/, /expected a comparator/]],
  ] as const) {
    it(`${view}: shows every problem of the filter as it is typed`, async () => {
      const page = await seeded.browser.newPage({ viewport: { width: 1100, height: 500 } });
      await page.goto(`${seeded.base}/runlens/ui/${view}?experiments=${exp}&theme=dark`);
      await page.locator('#filter').click();
      await page.keyboard.type(typed);
      await page.locator('.filter-diagnostic').first().waitFor({ timeout: 10_000 });
      const lines = await page.locator('.filter-diagnostic').allInnerTexts();
      assert.equal(lines.length, expected.length, lines.join('\n'));
      expected.forEach((re, i) => assert.match(lines[i]!, re));
      assert.ok((await page.locator('.filter-marked mark').count()) >= expected.length);
      await page.screenshot({ path: path.join(SHOTS, `filter-diagnostics-${view}.png`) });
      // Fixing the filter clears them.
      await page.keyboard.press('Control+A');
      await page.keyboard.type(view === 'runs' ? 'metrics.accuracy > 0.5' : "status = 'OK'");
      await page.waitForFunction(() => document.querySelectorAll('.filter-diagnostic').length === 0);
      await page.close();
    });
  }
});
