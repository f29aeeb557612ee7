/**
 * The views' browser build: `GET /runlens/ui/charts?runs=<id>,<id>`, `/runlens/ui/runs?experiments=<id>,…`,
 * `/runlens/ui/datasets?experiments=<id>,…[&dataset=<id>]`, `/runlens/ui/model?name=<model>[&version=<n>]`,
 * `/runlens/ui/governance[?group_by=team|project|customer_id&days=N]`
 * (`&theme=dark|light|hc`) serve the
 * same bundle VS Code loads in a webview, under the same strict CSP (nonce'd script, same-origin
 * fetch/EventSource only). Assets come only from the bundled `webview/` folder.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MlflowError } from '../domain/errors';
import { contentSecurityPolicy, renderPage, viewPreloads } from '../ui/pageHtml';
import { runTracesFilter } from '../ui/protocol';
import type { TrackingStore } from '../backend/api/tracking';
import type { Router } from './router';

const ASSET_TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const PAGES: Record<string, string> = {
  charts: 'Runlens — Metric charts',
  plots: 'Runlens — Plots',
  runs: 'Runlens — Runs',
  run: 'Runlens — Run',
  compare: 'Runlens — Compare runs',
  traces: 'Runlens — Traces',
  trace: 'Runlens — Trace',
  datasets: 'Runlens — Evaluation datasets',
  model: 'Runlens — Model',
  governance: 'Runlens — Governance',
};
const THEMES = new Set(['dark', 'light', 'hc']);

/** A page's initial state from its query string (the page's own URL state may refine it). */
async function pageState(page: string, param: (name: string) => string | undefined, list: (name: string) => string[], store: TrackingStore): Promise<object> {
  switch (page) {
    case 'runs':
      return { experimentIds: list('experiments') };
    case 'run':
      return { runId: param('run') ?? '', artifact: param('artifact') ?? '' };
    case 'traces': {
      const runId = param('run');
      if (runId) {
        // One run's traces: its experiment, filtered by the run.
        const run = await store.getRun(runId);
        return { experimentIds: [run.info.experiment_id], filter: runTracesFilter(runId) };
      }
      return { experimentIds: list('experiments'), ...(param('tab') === 'sessions' ? { tab: 'sessions' } : {}), ...(param('session') ? { session: param('session') } : {}) };
    }
    case 'datasets':
      return { experimentIds: list('experiments'), ...(param('dataset') ? { datasetId: param('dataset') } : {}) };
    case 'model':
      return { name: param('name') ?? '', ...(param('version') ? { version: param('version') } : {}) };
    case 'governance':
      return { ...(param('group_by') ? { groupBy: param('group_by') } : {}), ...(param('days') ? { days: Number(param('days')) } : {}) };
    case 'trace':
      return { traceId: param('trace') ?? '', ...(param('span') ? { span: param('span') } : {}) };
    default:
      return { runIds: list('runs') };
  }
}

function readManifest(assetsDir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(assetsDir, 'preload.json'), 'utf8');
  } catch {
    return undefined;
  }
}

export function registerUiRoutes(router: Router, assetsDir: string, store: TrackingStore): void {
  // The browser UI's front door: the runs table of every active experiment. Links the mlflow
  // client prints (`/#/experiments/<id>/runs/<run>`) keep their fragment through the redirect and
  // the table opens that run.
  router.plain('GET', '/', async () => {
    const page = await store.searchExperiments({ viewType: 'ACTIVE_ONLY', maxResults: 1000 });
    const ids = page.items.map((e) => e.experiment_id).join(',');
    return { raw: true, status: 302, contentType: 'text/plain; charset=utf-8', body: 'Runlens', headers: { Location: `/runlens/ui/runs?experiments=${ids}` } };
  });

  // MLflow's server answers `HEAD /` with 200 (its UI's index page); probes that check a tracking
  // server is up that way must see the same, though a browser's GET / is redirected to the table.
  router.plain('HEAD', '/', async () => ({ raw: true, status: 200, contentType: 'text/html; charset=utf-8', body: '' }));

  router.plain('GET', '/runlens/ui/assets/:file', async ({ pathParams }) => {
    const file = pathParams.file ?? '';
    const type = ASSET_TYPES[path.extname(file)];
    if (!/^[A-Za-z0-9._-]+$/.test(file) || !type) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No asset named '${file}'.`);
    let body: Buffer;
    try {
      body = fs.readFileSync(path.join(assetsDir, file));
    } catch {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No asset named '${file}' (is the webview bundle built? npm run build).`);
    }
    return { raw: true, status: 200, contentType: type, body, headers: { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' } };
  });

  router.plain('GET', '/runlens/ui/:page', async ({ pathParams, fields }) => {
    const page = pathParams.page ?? '';
    const title = PAGES[page];
    if (!title) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No view named '${page}'. Views: ${Object.keys(PAGES).join(', ')}.`);
    const nonce = randomBytes(16).toString('base64');
    const list = (name: string): string[] => (fields.string(name) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    const theme = fields.string('theme') ?? 'dark';
    const opts = { nonce, source: "'self'", connect: "'self'" };
    const html = renderPage({
      ...opts,
      title,
      scriptUri: `/runlens/ui/assets/${page}.js`,
      preloadUris: viewPreloads(readManifest(assetsDir), page).map((f) => `/runlens/ui/assets/${f}`),
      styleUris: ['/runlens/ui/assets/browser-themes.css', '/runlens/ui/assets/webview.css'],
      state: await pageState(page, fields.string.bind(fields), list, store),
      bodyClass: `theme-${THEMES.has(theme) ? theme : 'dark'}`,
    });
    return {
      raw: true,
      status: 200,
      contentType: 'text/html; charset=utf-8',
      body: html,
      // No other page may frame a view (clickjacking); the server also sends X-Frame-Options: DENY.
      // frame-ancestors only works as a header, so it is added here rather than to the page's CSP.
      headers: {
        'Content-Security-Policy': `${contentSecurityPolicy(opts)}; frame-ancestors 'none'`,
        'X-Content-Type-Options': 'nosniff',
        'Referrer-Policy': 'no-referrer',
      },
    };
  });
}
