/** The run page's dataset inputs: name, digest and context, source, schema and profile of each. */
import type { DatasetView } from '../../src/ui/datasetDetails';
import { el } from '../dom';

function table(head: string[], rows: string[][], cls: string): HTMLTableElement {
  const t = el('table', { class: `kv ${cls}` });
  const tr = el('tr');
  for (const h of head) tr.append(el('th', {}, h));
  t.append(tr);
  for (const r of rows) {
    const row = el('tr');
    for (const c of r) row.append(el('td', {}, c));
    t.append(row);
  }
  return t;
}

function datasetCard(d: DatasetView): HTMLElement {
  const box = el('details', { class: 'dataset', 'data-name': d.name, open: '' });
  const summary = el('summary');
  summary.append(el('strong', {}, d.name), el('span', { class: 'note' }, ` digest ${d.digest}${d.context ? ` · ${d.context}` : ''}`));
  box.append(summary);
  const source = el('div', { class: 'dataset-source' });
  source.append(el('span', { class: 'label' }, 'Source: '), el('span', { class: 'source-type' }, d.sourceType ?? 'unknown'));
  if (d.sourceUri) source.append(' · ', el('code', { class: 'source-uri' }, d.sourceUri));
  box.append(source);
  if (d.sourceDetails.length) box.append(table(['source field', 'value'], d.sourceDetails, 'dataset-source-details'));
  if (d.schema?.length) box.append(table(['column', 'type', ''], d.schema.map((c) => [c.name, c.type, c.required === false ? 'optional' : '']), 'dataset-schema'));
  else if (d.schemaRaw) box.append(el('pre', { class: 'dataset-schema-raw' }, d.schemaRaw));
  if (d.profile.length) box.append(table(['profile', ''], d.profile, 'dataset-profile'));
  return box;
}

/** The Inputs section, or nothing when the run has no dataset inputs. */
export function datasetInputs(inputs: DatasetView[]): HTMLElement[] {
  if (!inputs.length) return [];
  const list = el('div', { class: 'datasets' });
  for (const d of inputs) list.append(datasetCard(d));
  return [el('h2', {}, `Datasets (${inputs.length})`), list];
}
