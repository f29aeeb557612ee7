/** One logged model as a card (the run page's Models section and the model version page). */
import type { ModelVersionRef, RunModelView, SignatureField } from '../src/ui/modelProtocol';
import { formatShape } from '../src/ui/modelFormat';
import { el } from './dom';
import { formatValue } from './format';

const EXAMPLE_ROWS = 20;

function signatureTable(title: string, fields: SignatureField[]): HTMLElement {
  const t = el('table', { class: `preview-table signature sig-${title.toLowerCase()}` });
  const head = el('tr');
  for (const h of ['Name', 'Type', 'Shape']) head.append(el('th', {}, h));
  t.append(el('caption', {}, title), head);
  for (const f of fields) {
    const tr = el('tr');
    const type = el('td', { class: 'sig-type' }, f.type);
    if (f.tensor) type.append(el('span', { class: 'badge' }, 'tensor'));
    if (!f.required) type.append(el('span', { class: 'badge' }, 'optional'));
    tr.append(el('td', { class: 'sig-name' }, f.name ?? '—'), type, el('td', { class: 'sig-shape' }, f.shape ? formatShape(f.shape) : ''));
    t.append(tr);
  }
  return t;
}

/** The input example: split-orient dataframes and 2-D arrays as a table, anything else as JSON. */
function exampleView(example: NonNullable<RunModelView['inputExample']>): HTMLElement {
  const box = el('div', { class: 'input-example' });
  let value: unknown;
  try {
    value = JSON.parse(example.text);
  } catch {
    box.append(el('pre', { class: 'text' }, example.text));
    return box;
  }
  const split = value as { columns?: unknown; data?: unknown };
  const rows = Array.isArray(value) && value.every(Array.isArray) ? (value as unknown[][]) : Array.isArray(split?.data) && split.data.every(Array.isArray) ? (split.data as unknown[][]) : undefined;
  if (rows) {
    const t = el('table', { class: 'preview-table' });
    if (Array.isArray(split?.columns)) {
      const head = el('tr');
      for (const c of split.columns) head.append(el('th', {}, String(c)));
      t.append(head);
    }
    for (const r of rows.slice(0, EXAMPLE_ROWS)) {
      const tr = el('tr');
      for (const v of r) tr.append(el('td', { class: typeof v === 'number' ? 'num' : '' }, typeof v === 'string' ? v : JSON.stringify(v)));
      t.append(tr);
    }
    box.append(t);
    if (rows.length > EXAMPLE_ROWS) box.append(el('p', { class: 'note' }, `First ${EXAMPLE_ROWS} of ${rows.length} rows.`));
  } else box.append(el('pre', { class: 'text' }, JSON.stringify(value, null, 2)));
  if (example.truncated) box.append(el('p', { class: 'note' }, 'Cut at 64 KB.'));
  return box;
}

/** `openVersion` makes "registered as v1" a link (absent: plain text, as on the version's own page). */
export function modelCard(m: RunModelView, openVersion?: (v: ModelVersionRef) => void): HTMLElement {
  const card = el('section', { class: 'model-card', 'data-model': m.modelId ?? m.artifactPath ?? m.name });
  const head = el('h3', {}, m.name);
  if (m.flavors.length) head.append(el('span', { class: 'flavors' }, m.flavors.join(' · ')));
  card.append(head);
  const dl = el('dl', { class: 'model-facts' });
  const add = (k: string, v: string | Node | undefined): void => {
    if (v === undefined || v === '') return;
    const dd = el('dd');
    dd.append(v);
    dl.append(el('dt', {}, k), dd);
  };
  add('Model id', m.modelId);
  add('Location', m.kind === 'runArtifacts' ? `run artifacts: ${m.artifactPath ?? ''}/` : undefined);
  add('Type', m.modelType);
  add('Status', m.status?.replace(/^LOGGED_MODEL_/, '').toLowerCase());
  add('Created', m.created ? `${m.created} UTC` : undefined);
  add('Size', m.sizeBytes !== undefined ? `${m.sizeBytes.toLocaleString()} bytes` : undefined);
  add('MLflow', m.mlflowVersion);
  if (m.versions.length) {
    const regs = el('span', { class: 'registrations' });
    m.versions.forEach((v, i) => {
      if (i) regs.append(', ');
      const text = `${v.name} v${v.version}`;
      const label = el('span', { class: 'registration' });
      if (openVersion) {
        const a = el('a', { href: '#', class: 'run-link', 'data-version': `${v.name}/${v.version}` }, text);
        a.addEventListener('click', (e) => {
          e.preventDefault();
          openVersion(v);
        });
        label.append('registered as ', a);
      } else label.append(`registered as ${text}`);
      const extra = [v.stage, ...v.aliases.map((a) => `@${a}`)].filter(Boolean).join(' · ');
      if (extra) label.append(el('span', { class: 'badge' }, extra));
      regs.append(label);
    });
    add('Registered', regs);
  }
  card.append(dl);
  if (m.problem) card.append(el('p', { class: 'note model-problem' }, m.problem));
  const sig = m.signature;
  if (sig) {
    const box = el('div', { class: 'signature-box' });
    if (sig.inputs) box.append(signatureTable('Inputs', sig.inputs));
    if (sig.outputs) box.append(signatureTable('Outputs', sig.outputs));
    if (sig.params) box.append(signatureTable('Params', sig.params));
    card.append(el('h4', {}, 'Signature'), box);
  } else if (!m.problem) card.append(el('p', { class: 'empty' }, 'No signature logged.'));
  if (m.inputExample) card.append(el('h4', {}, 'Input example'), exampleView(m.inputExample));
  if (m.metrics.length) {
    const t = el('table', { class: 'kv model-metrics' });
    for (const x of m.metrics) {
      const tr = el('tr');
      tr.append(el('th', {}, x.key), el('td', { class: 'num' }, formatValue(x.value)), el('td', { class: 'note' }, [x.step ? `step ${x.step}` : '', x.dataset ?? ''].filter(Boolean).join(' · ')));
      t.append(tr);
    }
    card.append(el('h4', {}, `Metrics (${m.metrics.length})`), t);
  }
  const params = Object.entries(m.params);
  if (params.length) {
    const t = el('table', { class: 'kv model-params' });
    for (const [k, v] of params) {
      const tr = el('tr');
      tr.append(el('th', {}, k), el('td', {}, v));
      t.append(tr);
    }
    card.append(el('h4', {}, `Params (${params.length})`), t);
  }
  return card;
}
