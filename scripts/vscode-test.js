// Runs the mocha suites in test/vscode inside a real VS Code extension host (code-server), offline.
// The workbench owns a test run: it starts the extension host with extensionTestsPath and reports
// the result through window.codeAutomationExit(code). Prints the mocha lines; exits with that code.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startCodeServer, workbenchUrl, launchBrowser, newRunDir, removeRunDir } = require('./vscode-host');

const TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS || 420_000);
const PORT = Number(process.env.CS_PORT || 8090);

async function main() {
  const t0 = Date.now();
  const runDir = newRunDir('test');
  const workspace = path.join(runDir, 'workspace');
  fs.mkdirSync(workspace, { recursive: true });
  const python = process.env.RUNLENS_TEST_PYTHON || path.join(ROOT, '.venv/latest/bin/python');
  if (!fs.existsSync(python)) throw new Error(`${python} not found: run bash scripts/setup-python.sh first (the suites drive the real mlflow client)`);
  const artifactsDir = path.join(ROOT, 'test-results', 'vscode');
  fs.mkdirSync(artifactsDir, { recursive: true });
  const server = await startCodeServer({
    port: PORT,
    folder: workspace,
    runDir,
    settings: { 'runlens.python.path': python },
    env: { RUNLENS_TEST_PYTHON: python, RUNLENS_TEST_RESULTS: artifactsDir, RUNLENS_TEST_WORKSPACE: workspace },
  });
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] code-server up; logs in ${path.relative(ROOT, runDir)}`);
  const browser = await launchBrowser(path.join(runDir, 'chromium'));
  const logFile = fs.createWriteStream(path.join(runDir, 'automation.log'));
  const errors = [];
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  const page = browser.pages()[0] || (await browser.newPage());
  await page.exposeFunction('codeAutomationLog', (type, args) => {
    const text = (Array.isArray(args) ? args : [args]).map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ');
    logFile.write(`${type} ${text}\n`);
    for (const line of text.split('\n')) {
      if (line.startsWith('[mocha] ')) console.log(line.slice(8));
    }
    if (type === 'error') errors.push(text);
  });
  await page.exposeFunction('codeAutomationExit', (code) => finish(Number(code)));
  const suite = path.join(ROOT, 'out/test/vscode/suite/index.js');
  await page.goto(workbenchUrl(server, workspace, ROOT, suite));
  const timer = setTimeout(() => finish(124), TIMEOUT_MS);
  const code = await done;
  clearTimeout(timer);
  if (code === 124) console.error(`timed out after ${TIMEOUT_MS} ms`);
  if (code !== 0) {
    console.error(`extension host exited with ${code}; last errors:`);
    for (const e of errors.slice(-15)) console.error(`  ${e.slice(0, 2000)}`);
  }
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s] extension host finished the tests with exit code ${code}`);
  await browser.close().catch(() => undefined);
  await server.stop();
  logFile.end();
  if (code === 0 && !process.env.KEEP_RUN_DIR) removeRunDir(runDir);
  process.exit(code);
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
