/// <reference lib="dom" />
// Shared by the browser suites: a seeded `runlens serve`, chromium, JSON posts, measurements.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { runlensServe, type ServeProcess } from './runlensServe';

export const ROOT = path.resolve(__dirname, '../../..');
export const SHOTS = path.join(ROOT, 'test-results', 'screenshots');
const PYTHON = process.env.RUNLENS_TEST_PYTHON ?? path.join(ROOT, '.venv/latest/bin/python');

export async function post(base: string, route: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}${route}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${route}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

export function report(line: string): void {
  fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
  fs.appendFileSync(path.join(ROOT, 'test-results', 'browser-measurements.txt'), `${new Date().toISOString()} ${line}\n`);
  console.log(`      measured: ${line}`);
}

/**
 * Opens a view (`url` on `base`, with `theme`) in a new page and waits until it says it is ready;
 * fails if the page broke its content security policy or threw.
 */
export async function openView(browser: Browser, base: string, url: string, theme = 'dark', viewport = { width: 1400, height: 900 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
  });
  page.on('pageerror', (e) => violations.push(e.message));
  await page.goto(`${base}${url}${url.includes('?') ? '&' : '?'}theme=${theme}`);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  if (violations.length) throw new Error(`${url}: ${violations.join('\n')}`);
  return page;
}

export interface SeededServer {
  server: ServeProcess;
  base: string;
  /** The store the server serves. */
  root: string;
  browser: Browser;
  /** The seed script's stdout. */
  seedOutput: string;
  close(): Promise<void>;
}

/**
 * A fresh store served by `runlens serve` (with `serveArgs`), seeded by `script` through the real
 * mlflow client (`python`: another venv's), and a chromium.
 */
export async function seededServer(prefix: string, script: string, python = PYTHON, serveArgs: string[] = []): Promise<SeededServer> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const server = runlensServe(root, serveArgs);
  const base = await server.url;
  const file = path.join(root, 'seed.py');
  fs.writeFileSync(file, script);
  const seedOutput = await new Promise<string>((resolve, reject) =>
    execFile(python, [file], { env: { ...process.env, MLFLOW_TRACKING_URI: base, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' } }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  fs.mkdirSync(SHOTS, { recursive: true });
  return {
    server,
    base,
    root,
    browser,
    seedOutput,
    close: async () => {
      await browser.close();
      server.stop();
    },
  };
}
