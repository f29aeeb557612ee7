/**
 * Artifact previews, built with DOM APIs only (no HTML strings from artifacts): images, text and
 * logs, JSON and YAML as folded trees, CSV/TSV as tables, Markdown (markdown-it, raw HTML off),
 * and an MLmodel summary (flavors, signature, size).
 */
import MarkdownIt from 'markdown-it';
import { parse as parseYaml } from 'yaml';
import { formatField } from '../../src/ui/modelFormat';
import { parseSignature } from '../../src/ui/modelSignature';
import type { ArtifactPreview } from '../../src/ui/protocol';
import { el } from '../dom';
import { tree } from '../jsonTree';

export { tree };

const markdown = new MarkdownIt({ html: false, linkify: true });
const MAX_TABLE_ROWS = 500;

/** Markdown → sanitized DOM: markdown-it escapes raw HTML; links only to http(s). */
export function renderMarkdown(source: string): HTMLElement {
  const box = el('div', { class: 'markdown' });
  const doc = new DOMParser().parseFromString(markdown.render(source), 'text/html');
  for (const a of doc.querySelectorAll('a')) {
    if (!/^https?:/i.test(a.getAttribute('href') ?? '')) a.removeAttribute('href');
    a.setAttribute('rel', 'noopener noreferrer');
  }
  for (const img of doc.querySelectorAll('img')) img.remove(); // nothing remote
  box.append(...Array.from(doc.body.childNodes).map((n) => document.importNode(n, true)));
  return box;
}

/** One CSV/TSV line into fields (quotes and doubled quotes handled). */
export function splitDelimited(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"' && cur === '') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function table(text: string, sep: string): HTMLElement {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const t = el('table', { class: 'preview-table' });
  const [head, ...body] = lines;
  const tr = el('tr');
  for (const h of splitDelimited(head ?? '', sep)) tr.append(el('th', {}, h));
  t.append(el('thead'), el('tbody'));
  t.tHead!.append(tr);
  for (const line of body.slice(0, MAX_TABLE_ROWS)) {
    const row = el('tr');
    for (const v of splitDelimited(line, sep)) row.append(el('td', { class: /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i.test(v) ? 'num' : '' }, v));
    t.tBodies[0]!.append(row);
  }
  const box = el('div', { class: 'preview-table-box' });
  box.append(t);
  if (body.length > MAX_TABLE_ROWS) box.append(el('p', { class: 'note' }, `First ${MAX_TABLE_ROWS} of ${body.length} rows.`));
  return box;
}

function mlmodelSummary(doc: Record<string, unknown>): HTMLElement {
  const box = el('div', { class: 'mlmodel' });
  const flavors = Object.keys((doc.flavors as Record<string, unknown>) ?? {});
  const dl = el('dl');
  const add = (k: string, v: string | undefined): void => {
    if (!v) return;
    dl.append(el('dt', {}, k), el('dd', {}, v));
  };
  add('Flavors', flavors.join(', '));
  add('Model id', doc.model_id as string | undefined);
  add('Run', doc.run_id as string | undefined);
  add('Created', doc.utc_time_created as string | undefined);
  add('Size', doc.model_size_bytes !== undefined ? `${Number(doc.model_size_bytes).toLocaleString()} bytes` : undefined);
  const sig = parseSignature(doc.signature);
  add('Inputs', sig?.inputs?.map(formatField).join(', '));
  add('Outputs', sig?.outputs?.map(formatField).join(', '));
  add('Params', sig?.params?.map(formatField).join(', '));
  box.append(dl, tree(doc, 'MLmodel', 1));
  return box;
}

/** `plainText` renders plain text (the run page links traceback frames in it); a bare `<pre>` by default. */
export function renderPreview(path: string, p: ArtifactPreview, plainText: (text: string) => HTMLElement = (t) => el('pre', { class: 'text' }, t)): HTMLElement {
  const name = path.split('/').pop() ?? path;
  const ext = name.includes('.') ? name.toLowerCase().split('.').pop()! : '';
  const box = el('div', { class: 'preview', 'data-kind': '' });
  if (p.kind === 'image') {
    box.dataset.kind = 'image';
    box.append(el('img', { src: p.dataUrl, alt: name }));
    return box;
  }
  if (p.kind !== 'text') {
    box.dataset.kind = p.kind;
    box.append(el('p', { class: 'note' }, p.kind === 'tooLarge' ? `Too large to preview (${p.size.toLocaleString()} bytes).` : `Binary file (${p.size.toLocaleString()} bytes).`));
    return box;
  }
  try {
    if (ext === 'csv' || ext === 'tsv') {
      box.dataset.kind = 'table';
      box.append(table(p.text, ext === 'tsv' ? '\t' : ','));
    } else if (ext === 'json') {
      box.dataset.kind = 'tree';
      box.append(tree(JSON.parse(p.text)));
    } else if (name === 'MLmodel') {
      box.dataset.kind = 'mlmodel';
      box.append(mlmodelSummary(parseYaml(p.text) as Record<string, unknown>));
    } else if (ext === 'yaml' || ext === 'yml') {
      box.dataset.kind = 'tree';
      box.append(tree(parseYaml(p.text)));
    } else if (ext === 'md' || ext === 'markdown') {
      box.dataset.kind = 'markdown';
      box.append(renderMarkdown(p.text));
    } else {
      box.dataset.kind = 'text';
      box.append(plainText(p.text));
    }
  } catch (err) {
    box.dataset.kind = 'text';
    box.append(el('p', { class: 'note' }, `Shown as text: ${err instanceof Error ? err.message : String(err)}`), el('pre', { class: 'text' }, p.text));
  }
  if (p.truncated) box.append(el('p', { class: 'note' }, `Showing the first 1 MB of ${p.size.toLocaleString()} bytes.`));
  return box;
}
