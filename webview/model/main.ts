/**
 * The model pages. A version: its lineage (run → logged model → version), stage and aliases, the
 * `models:/` URIs, an editable description and tags, and the model it was registered from
 * (flavors, signature, input example, metrics). Without a version: the registered model with its
 * description, aliases and versions.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { ModelPageState, ModelVersionDetail, RegisteredModelDetail } from '../../src/ui/modelProtocol';
import { modelUri } from '../../src/ui/modelProtocol';
import { isoTime } from '../../src/ui/runFormat';
import { el } from '../dom';
import { modelCard } from '../modelCard';
import { createTransport, isAbortError } from '../transport';
import { cancelledNotice, withBusy } from '../busy';
import { descriptionBox, tagEditor } from './editors';

const transport = withBusy(createTransport());
const state: ModelPageState = transport.loadState<ModelPageState>({ name: '' });
const app = document.getElementById('app')!;

function link(text: string, onClick: () => void, attrs: Record<string, string> = {}): HTMLAnchorElement {
  const a = el('a', { href: '#', class: 'run-link', ...attrs }, text);
  a.addEventListener('click', (e) => {
    e.preventDefault();
    onClick();
  });
  return a;
}

/** Another page of this view: in VS Code its own tab, in a browser this page follows. */
function goTo(target: ModelPageState): void {
  if (transport.inVsCode) {
    transport.action('openModel', [], undefined, undefined, target);
    return;
  }
  state.name = target.name;
  if (target.version) state.version = target.version;
  else delete state.version;
  transport.saveState(state);
  void load();
}

function kv(rows: [string, string | Node | undefined][]): HTMLElement {
  const t = el('table', { class: 'kv' });
  for (const [k, v] of rows) {
    if (v === undefined || v === '') continue;
    const td = el('td');
    td.append(v);
    const tr = el('tr');
    tr.append(el('th', {}, k), td);
    t.append(tr);
  }
  return t;
}

function lineage(d: ModelVersionDetail): HTMLElement {
  const box = el('div', { class: 'lineage', id: 'lineage' });
  const step = (kind: string, body: Node | string, sub?: string): HTMLElement => {
    const s = el('div', { class: 'lineage-step', 'data-kind': kind });
    s.append(el('div', { class: 'lineage-kind' }, kind));
    const main = el('div', { class: 'lineage-main' });
    main.append(body);
    s.append(main);
    if (sub) s.append(el('div', { class: 'lineage-sub' }, sub));
    return s;
  };
  const arrow = (): HTMLElement => el('span', { class: 'lineage-arrow', 'aria-hidden': 'true' }, '→');
  const runId = d.runId;
  box.append(
    step('Run', runId ? link(d.runName ?? runId, () => transport.action('openRun', [runId]), { id: 'lineage-run' }) : 'unknown', [d.experimentName, runId?.slice(0, 12)].filter(Boolean).join(' · ')),
    arrow(),
  );
  if (d.model) {
    const m = d.model;
    box.append(step(m.kind === 'loggedModel' ? 'Logged model' : 'Run artifacts', m.kind === 'loggedModel' ? m.name : `${m.artifactPath ?? m.name}/`, m.modelId ?? m.flavors.join(' · ')), arrow());
  }
  box.append(step('Version', `${d.name} v${d.version}`, [d.stage !== 'None' ? d.stage : '', ...d.aliases.map((a) => `@${a}`)].filter(Boolean).join(' · ') || undefined));
  return box;
}

function versionPage(d: ModelVersionDetail): void {
  const header = el('header');
  header.append(el('h1', {}, `${d.name} · version ${d.version}`));
  if (d.stage !== 'None') header.append(el('span', { class: 'status stage' }, d.stage));
  for (const a of d.aliases) header.append(el('span', { class: 'status alias' }, `@${a}`));
  const uris = el('div', { class: 'model-uris' });
  for (const u of [modelUri(d.name, d.version), ...d.aliases.map((alias) => modelUri(d.name, { alias }))]) uris.append(el('code', { class: 'model-uri' }, u));
  const columns = el('div', { class: 'columns' });
  const left = el('div');
  const edit = (description: string): Promise<unknown> => transport.call({ kind: 'setModelVersionDescription', name: d.name, version: d.version, description });
  left.append(
    el('h2', {}, 'Details'),
    kv([
      ['Source', d.source],
      ['Status', d.status],
      ['Created', d.created ? isoTime(d.created) : undefined],
      ['Updated', d.updated ? isoTime(d.updated) : undefined],
      ['User', d.user],
      ['All versions', link(d.name, () => goTo({ name: d.name }), { id: 'all-versions' })],
    ]),
    descriptionBox(d.description, edit, load),
    tagEditor(
      d.tags,
      (key, value) => transport.call({ kind: 'setModelVersionTag', name: d.name, version: d.version, key, value }),
      (key) => transport.call({ kind: 'deleteModelVersionTag', name: d.name, version: d.version, key }),
      load,
    ),
  );
  const right = el('div');
  right.append(el('h2', {}, 'Model'), d.model ? modelCard(d.model) : el('p', { class: 'empty' }, `The model behind ${d.source} was not found on this server.`));
  columns.append(left, right);
  app.replaceChildren(header, uris, el('h2', {}, 'Lineage'), lineage(d), columns);
}

function registeredPage(d: RegisteredModelDetail): void {
  const header = el('header');
  header.append(el('h1', {}, d.name), el('span', { class: 'note' }, `${d.versions.length} version${d.versions.length === 1 ? '' : 's'}`));
  const t = el('table', { class: 'preview-table versions', id: 'versions' });
  const head = el('tr');
  for (const h of ['Version', 'Stage', 'Aliases', 'Run', 'Created', 'Description']) head.append(el('th', {}, h));
  t.append(head);
  for (const v of d.versions) {
    const tr = el('tr', { 'data-version': v.version });
    const run = el('td');
    const runId = v.runId;
    if (runId) run.append(link(runId.slice(0, 8), () => transport.action('openRun', [runId])));
    const ver = el('td');
    ver.append(link(`v${v.version}`, () => goTo({ name: d.name, version: v.version })));
    tr.append(ver, el('td', {}, v.stage === 'None' ? '' : v.stage), el('td', {}, v.aliases.map((a) => `@${a}`).join(' ')), run, el('td', {}, v.created ? isoTime(v.created) : ''), el('td', {}, v.description));
    t.append(tr);
  }
  const aliases = d.aliases.length ? kv(d.aliases.map((a): [string, string] => [`@${a.alias}`, `v${a.version} · ${modelUri(d.name, { alias: a.alias })}`])) : el('p', { class: 'empty' }, 'No aliases.');
  const tags = Object.entries(d.tags);
  app.replaceChildren(
    header,
    descriptionBox(d.description, (description) => transport.call({ kind: 'setRegisteredModelDescription', name: d.name, description }), load),
    el('h2', {}, 'Versions'),
    t,
    el('h2', {}, 'Aliases'),
    aliases,
    el('h2', {}, `Tags (${tags.length})`),
    tags.length ? kv(tags) : el('p', { class: 'empty' }, 'None.'),
  );
}

async function load(): Promise<void> {
  if (!state.name) {
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, 'No model selected.'));
    return;
  }
  try {
    const signal = transport.supersede('model');
    if (state.version) versionPage(await transport.call({ kind: 'modelVersion', name: state.name, version: state.version }, { signal }));
    else registeredPage(await transport.call({ kind: 'registeredModel', name: state.name }, { signal }));
    document.title = state.version ? `${state.name} v${state.version}` : state.name;
    document.body.dataset.renderedAt = String(Date.now());
  } catch (err) {
    // Cancelled: a page already shown stays; an empty one offers to load again.
    if (isAbortError(err)) {
      if (!document.body.dataset.renderedAt) app.replaceChildren(cancelledNotice(() => void load()));
      return;
    }
    app.replaceChildren(el('div', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err)));
  }
}

void load();
