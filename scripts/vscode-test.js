// Runs the mocha suites in test/vscode inside a real VS Code extension host (code-server), offline.
// The workbench owns a test run: it starts the extension host with extensionTestsPath and reports
// the result through window.codeAutomationExit(code). Prints the mocha lines; exits with that code.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { ROOT, startCodeServer, workbenchUrl, launchBrowser, newRunDir, removeRunDir } = require('./vscode-host');

// The whole suite runs in one extension host: about 7 min on a quiet 2-core machine, more under load.
const TIMEOUT_MS = Number(process.env.TEST_TIMEOUT_MS || 720_000);
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
  for (const f of ['server-pids.txt', 'extension-host-pid.txt']) fs.rmSync(path.join(artifactsDir, f), { force: true });
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
  // The real lock once the store exists; before its first write, the pending lock (see storeLock.ts)
  // in the extension host's TMPDIR, which is the run dir.
  const realLock = path.join(workspace, 'mlruns', '.runlens', 'lock.json');
  const lockFile = fs.existsSync(realLock) ? realLock : pendingLockFile(runDir, path.join(workspace, 'mlruns'));
  const serverPids = readPids(path.join(artifactsDir, 'server-pids.txt'));
  const lockPid = readLockPid(lockFile);
  if (lockPid) serverPids.push(lockPid);
  await browser.close().catch(() => undefined);
  const leftovers = await afterWindowClosed(readPids(path.join(artifactsDir, 'extension-host-pid.txt'))[0], serverPids, lockFile);
  await server.stop();
  logFile.end();
  const exit = code === 0 && leftovers ? 1 : code;
  if (exit === 0 && !process.env.KEEP_RUN_DIR) removeRunDir(runDir);
  process.exit(exit);
}

function readPids(file) {
  if (!fs.existsSync(file)) return [];
  return fs.readFileSync(file, 'utf8').split(/\s+/).filter(Boolean).map(Number);
}

function pendingLockFile(tmpDir, root) {
  const uid = typeof process.getuid === 'function' ? process.getuid() : require('node:os').userInfo().username;
  const key = require('node:crypto').createHash('sha256').update(path.resolve(root)).digest('hex').slice(0, 32);
  return path.join(tmpDir, `runlens-locks-${uid}`, `${key}.json`);
}

function readLockPid(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')).pid;
  } catch {
    return undefined;
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pids, ms) {
  const deadline = Date.now() + ms;
  while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  return pids.filter(alive);
}

/**
 * Closing the window must leave no server process behind: code-server ends the extension host
 * once the browser is gone (after --reconnection-grace-time), the extension's deactivate stops
 * its server with a checkpoint, and the store's lock is released. Returns true when something
 * was left behind (printed).
 */
async function afterWindowClosed(hostPid, serverPids, lockFile) {
  if (!hostPid || serverPids.length === 0) {
    console.log('window-close check: skipped (no server process was recorded)');
    return false;
  }
  const t0 = Date.now();
  const host = await waitGone([hostPid], 60_000);
  if (host.length) {
    console.error(`window-close check: the extension host (process ${hostPid}) still runs 60 s after the window closed`);
    return true;
  }
  const left = await waitGone(serverPids, 5000);
  const lockLeft = fs.existsSync(lockFile);
  console.log(`window-close check: extension host gone ${((Date.now() - t0) / 1000).toFixed(1)} s after the window closed; server processes ${serverPids.join(', ')} ${left.length ? `still running: ${left.join(', ')}` : 'all gone'}; store lock ${lockLeft ? 'NOT released' : 'released'}`);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left.length > 0 || lockLeft;
}

main().catch((err) => {
  console.error(err.stack || String(err));
  process.exit(1);
});
