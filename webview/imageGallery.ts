/**
 * The image gallery of images logged per step: one card per key, one image per run, and a step
 * slider per key that moves every run's image together (the run page passes one run, compare
 * several). Images are fetched on demand (the compressed thumbnail when there is one) and kept.
 */
import { groupLoggedImages, imageAtStep, IMAGES_DIR, stepsOf, type ImageSeries } from '../src/ui/loggedImages';
import type { Transport } from './transport';
import { el } from './dom';

export interface GalleryRun {
  runId: string;
  label: string;
}

/** The runs' image series, keyed by run id (runs without images/ have none). */
async function loadSeries(transport: Transport, runs: GalleryRun[]): Promise<Map<string, ImageSeries[]>> {
  const out = new Map<string, ImageSeries[]>();
  await Promise.all(
    runs.map(async (r) => {
      const files = await transport.call({ kind: 'artifacts', runId: r.runId, path: IMAGES_DIR }).catch(() => []);
      const series = groupLoggedImages(files.filter((f) => !f.isDir).map((f) => f.path));
      if (series.length) out.set(r.runId, series);
    }),
  );
  return out;
}

/**
 * A gallery section for `runs`, or undefined when none of them logged per-step images. `steps`
 * remembers each key's slider position across re-renders (the caller keeps it in its state).
 */
export async function imageGallery(transport: Transport, runs: GalleryRun[], steps: Record<string, number>, onStep: () => void): Promise<HTMLElement | undefined> {
  const byRun = await loadSeries(transport, runs);
  if (byRun.size === 0) return undefined;
  const keys = [...new Set([...byRun.values()].flatMap((s) => s.map((x) => x.key)))].sort();
  const section = el('section', { class: 'image-gallery', id: 'image-gallery' });
  section.append(el('h2', {}, `Images (${keys.length})`));
  const cache = new Map<string, Promise<string | undefined>>();
  const dataUrl = (runId: string, path: string): Promise<string | undefined> => {
    const id = `${runId}\0${path}`;
    let p = cache.get(id);
    if (!p) {
      p = transport.call({ kind: 'artifact', runId, path }).then((a) => (a.kind === 'image' ? a.dataUrl : undefined), () => undefined);
      cache.set(id, p);
    }
    return p;
  };
  for (const key of keys) {
    const seriesOf = (runId: string): ImageSeries | undefined => byRun.get(runId)?.find((s) => s.key === key);
    const all = stepsOf(runs.map((r) => seriesOf(r.runId)).filter((s): s is ImageSeries => s !== undefined));
    const card = el('div', { class: 'gallery-card', 'data-key': key });
    const head = el('div', { class: 'gallery-head' });
    const stepLabel = el('span', { class: 'gallery-step' });
    head.append(el('strong', {}, key), stepLabel);
    const slider = el('input', { type: 'range', min: '0', max: String(all.length - 1), step: '1', class: 'gallery-slider', 'aria-label': `step of ${key}` });
    const wanted = steps[key];
    const startAt = wanted !== undefined && all.includes(wanted) ? all.indexOf(wanted) : all.length - 1;
    slider.value = String(startAt);
    if (all.length < 2) slider.disabled = true;
    const row = el('div', { class: 'gallery-row' });
    const cells = runs.map((r) => {
      const figure = el('figure', { class: 'gallery-cell', 'data-run': r.runId });
      const img = el('img', { alt: `${key} of ${r.label}` });
      const caption = el('figcaption');
      figure.append(img, caption);
      row.append(figure);
      return { run: r, img, caption, figure };
    });
    const show = (index: number): void => {
      const step = all[index]!;
      stepLabel.textContent = `step ${step} (${index + 1} of ${all.length})`;
      card.dataset.step = String(step);
      for (const c of cells) {
        const image = imageAtStep(seriesOf(c.run.runId), step);
        const label = runs.length > 1 ? `${c.run.label} · ` : '';
        if (!image) {
          c.img.removeAttribute('src');
          c.img.dataset.path = '';
          c.figure.dataset.path = '';
          c.caption.textContent = `${label}no image yet at step ${step}`;
          continue;
        }
        c.figure.dataset.path = image.path;
        c.caption.textContent = `${label}step ${image.step}${image.step !== step ? ' (latest before)' : ''}`;
        const wantedPath = image.thumbnail ?? image.path;
        void dataUrl(c.run.runId, wantedPath).then((url) => {
          if (c.figure.dataset.path !== image.path || !url) return;
          // The image element says which file it shows once it shows it (the fetch is async, so
          // until then it still holds the previous step's picture).
          c.img.onload = () => {
            c.img.dataset.path = image.path;
          };
          c.img.src = url;
        });
      }
    };
    slider.addEventListener('input', () => {
      const i = Number(slider.value);
      steps[key] = all[i]!;
      show(i);
      onStep();
    });
    card.append(head, slider, row);
    section.append(card);
    show(startAt);
  }
  return section;
}
