/**
 * Hovers on logged keys (`log_metric("val_auc", …)`, `log_param`, `set_tag`, their dict forms)
 * and the code lens over `mlflow.start_run(`: what those keys and this file's last run did in the
 * store.
 */
import { MarkupKind, type CodeLens, type Hover } from 'vscode-languageserver/node';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { closest } from '../filter/didYouMean';
import type { WireFileInfo } from '../client/wireTypes';
import type { PyArtifactArg, PyStringArg, PyScan } from './pythonScan';
import type { RunSummary, StoreSnapshot } from './keyCache';
import { fmt } from './filterFeatures';

const BARS = '▁▂▃▄▅▆▇█';

/** A text sparkline of values in order (oldest first). */
export function sparkline(values: number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (!finite.length) return '';
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return values.map((v) => (Number.isFinite(v) ? BARS[hi === lo ? 3 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))] : ' ')).join('');
}

function ago(ms: number, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 5400) return `${Math.round(s / 60)} min ago`;
  if (s < 129600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

const RECENT = 12;

export function logKeyHover(arg: PyStringArg, snapshot: StoreSnapshot | undefined): Hover | undefined {
  if (arg.use.role !== 'logKey') return undefined;
  const key = arg.token.value!;
  const source = arg.use.source;
  if (!snapshot) return { contents: { kind: MarkupKind.Markdown, value: `**${key}** — no tracking server answers, so nothing is known about it yet.` } };
  const stats = snapshot.keys[source].get(key);
  if (!stats) {
    const near = closest(key, snapshot.keys[source].keys());
    return { contents: { kind: MarkupKind.Markdown, value: `**${key}**: no run has logged this ${source.replace(/s$/, '')} yet in ${snapshot.scope}.${near.length ? ` Existing: ${near.map((n) => `\`${n}\``).join(', ')} — a different name keeps runs from being compared.` : ''}` } };
  }
  const lines = [`**${source}.${key}** — ${stats.count} of ${snapshot.runCount} runs in ${snapshot.scope}`];
  if (source === 'metrics') {
    const recent = snapshot.runs.filter((r) => r.metrics.has(key)).slice(0, RECENT);
    const values = recent.map((r) => r.metrics.get(key)!).reverse();
    lines.push(`latest in the last ${recent.length} runs: \`${sparkline(values)}\` (oldest → newest), min ${fmt(stats.min ?? NaN)} · max ${fmt(stats.max ?? NaN)}`);
    lines.push(recent.slice(0, 5).map((r) => `- ${r.name}: **${fmt(r.metrics.get(key)!)}** · ${r.status.toLowerCase()} · ${ago(r.startTime)}`).join('\n'));
    const args = encodeURIComponent(JSON.stringify([recent.map((r) => r.runId)]));
    lines.push(`[Open charts of these runs](command:runlens.showCharts?${args})`);
  } else if (stats.values) {
    const values = [...stats.values.entries()].sort((a, b) => b[1] - a[1]);
    lines.push(`${values.length} distinct value${values.length === 1 ? '' : 's'}: ${values.slice(0, 8).map(([v, n]) => `\`${v}\` (${n})`).join(', ')}${values.length > 8 ? ', …' : ''}`);
  }
  return { contents: { kind: MarkupKind.Markdown, value: lines.join('\n\n') } };
}

function size(bytes: number | undefined): string {
  if (bytes === undefined) return '';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

const runLink = (r: RunSummary): string => `[${r.name}](command:runlens.showRunPage?${encodeURIComponent(JSON.stringify([r.runId]))})`;

/**
 * Hover on a path argument of `log_artifact(s)` / `log_text` / `log_dict` / `log_figure` /
 * `log_image` / `log_table`: which of the most recent runs hold that artifact (size, status,
 * when, a link to each run's page), or — when none does — what is in that directory instead.
 */
export async function artifactHover(arg: PyArtifactArg, snapshot: StoreSnapshot | undefined, list: (runId: string, dir: string) => Promise<WireFileInfo[]>): Promise<Hover> {
  const { path, dir: isDir } = arg.target;
  const shown = path === '' ? 'the artifact root' : `\`${path}${isDir ? '/' : ''}\``;
  const md = (value: string): Hover => ({ contents: { kind: MarkupKind.Markdown, value } });
  if (!snapshot) return md(`**${shown}** — no tracking server answers, so nothing is known about it yet.`);
  const recent = snapshot.runs.slice(0, RECENT);
  if (!recent.length) return md(`**${shown}** — no run in ${snapshot.scope} yet.`);
  const parent = isDir ? path : path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  const listings = await Promise.all(recent.map((r) => list(r.runId, parent).catch(() => undefined)));
  const lines: string[] = [];
  const holders: { run: RunSummary; info: string }[] = [];
  const nearby = new Set<string>();
  recent.forEach((run, k) => {
    const files = listings[k];
    if (!files) return;
    for (const f of files) nearby.add(f.path.split('/').pop()! + (f.is_dir ? '/' : ''));
    if (isDir) {
      if (files.length) holders.push({ run, info: `${files.length} entr${files.length === 1 ? 'y' : 'ies'}, ${size(files.reduce((n, f) => n + (f.file_size ?? 0), 0))}` });
    } else {
      const f = files.find((x) => x.path === path && !x.is_dir);
      if (f) holders.push({ run, info: size(f.file_size) });
    }
  });
  const unread = listings.filter((l) => l === undefined).length;
  const of = `the ${recent.length} most recent run${recent.length === 1 ? '' : 's'} in ${snapshot.scope}`;
  if (holders.length) {
    lines.push(`**${shown}** — in ${holders.length} of ${of}`);
    lines.push(holders.slice(0, 6).map((h) => `- ${runLink(h.run)}: ${h.info} · ${h.run.status.toLowerCase()} · ${ago(h.run.startTime)}`).join('\n'));
  } else {
    lines.push(`**${shown}** — none of ${of} has it yet.`);
    const names = [...nearby].sort();
    if (names.length) {
      const want = path.split('/').pop() ?? path;
      const near = closest(want, names)[0];
      lines.push(`${parent ? `In \`${parent}/\`` : 'At the root'} they have: ${names.slice(0, 10).map((n) => `\`${n}\``).join(', ')}${names.length > 10 ? ', …' : ''}${near && !isDir ? ` — did you mean \`${near}\`?` : ''}`);
    }
  }
  if (unread) lines.push(`(${unread} run${unread === 1 ? '' : 's'} could not be read)`);
  return md(lines.join('\n\n'));
}

/** The most recent run started from this file (MLflow's mlflow.source.name tag holds the script path). */
export function lastRunOf(filePath: string, snapshot: StoreSnapshot): RunSummary | undefined {
  const norm = (p: string): string => p.replace(/\\/g, '/');
  const file = norm(filePath);
  const base = file.split('/').pop()!;
  return snapshot.runs.find((r) => r.sourceName !== undefined && (norm(r.sourceName) === file || file.endsWith(`/${norm(r.sourceName).replace(/^\.\//, '')}`) || norm(r.sourceName).split('/').pop() === base));
}

export function startRunLenses(doc: TextDocument, filePath: string | undefined, scan: PyScan, snapshot: StoreSnapshot | undefined): CodeLens[] {
  if (!scan.startRuns.length || !filePath || !snapshot) return [];
  const run = lastRunOf(filePath, snapshot);
  if (!run) return [];
  const key = [...run.metrics.entries()][0];
  const title = `Last run: ${run.name} · ${run.status.toLowerCase()}${key ? ` · ${key[0]} ${fmt(key[1])}` : ''} · ${ago(run.startTime)}`;
  return scan.startRuns.map((s) => ({ range: { start: doc.positionAt(s.start), end: doc.positionAt(s.end) }, command: { title, command: 'runlens.showRunPage', arguments: [run.runId] } }));
}
