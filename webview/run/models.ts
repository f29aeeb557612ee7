/** The run page's Models section: what the run logged (MLflow 3 logged models, MLflow 2 model folders) and where it is registered. */
import type { RunModelView } from '../../src/ui/modelProtocol';
import { el } from '../dom';
import { modelCard } from '../modelCard';
import type { Transport } from '../transport';

/** The last answer per run, shown while a re-render (a live run's push) asks again: no flicker. */
const last = new Map<string, { models: RunModelView[]; at: number }>();
/** A live run re-renders its page every second; its models (several requests each) are asked for at most this often. */
const REFRESH_MS = 10_000;

function fill(section: HTMLElement, models: RunModelView[], transport: Transport): void {
  const open = (v: { name: string; version: string }): void => transport.action('openModel', [], undefined, undefined, { name: v.name, version: v.version });
  section.replaceChildren(el('h2', {}, `Models (${models.length})`), ...models.map((m) => modelCard(m, open)));
  section.dataset.loaded = String(models.length);
}

/** An empty section until the run's models are known; hidden when it has none. */
export function modelsSection(runId: string, transport: Transport): HTMLElement {
  const section = el('section', { class: 'run-models', id: 'run-models' });
  const cached = last.get(runId);
  if (cached?.models.length) fill(section, cached.models, transport);
  if (cached && Date.now() - cached.at < REFRESH_MS) {
    section.dataset.loaded = String(cached.models.length);
    return section;
  }
  void transport
    .call({ kind: 'runModels', runId })
    .then((models) => {
      last.set(runId, { models, at: Date.now() });
      if (models.length) fill(section, models, transport);
      else {
        section.replaceChildren();
        section.dataset.loaded = '0';
      }
    })
    .catch((err: unknown) => {
      section.replaceChildren(el('h2', {}, 'Models'), el('p', { class: 'error' }, err instanceof Error ? err.message : String(err)));
      section.dataset.loaded = 'error';
    });
  return section;
}
