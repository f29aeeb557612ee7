/**
 * Images logged per step (`mlflow.log_image(image, key=…, step=…)`), found by their artifact
 * names. MLflow 3.x writes `images/<key>+step+<s>+timestamp+<ms>+<uuid>.png` plus a
 * `…+compressed.webp` thumbnail; earlier releases used `%` as the separator (`mlflow/tracking/
 * client.py: log_image`). A `/` in the key is written as `~` (earlier `#`).
 */

export interface LoggedImage {
  step: number;
  timestamp: number;
  /** The full-resolution file. */
  path: string;
  /** The compressed thumbnail, when the client wrote one. */
  thumbnail?: string;
}

export interface ImageSeries {
  key: string;
  /** Ordered by step, then timestamp (several images may share a step). */
  images: LoggedImage[];
}

/** The folder log_image writes to, inside the run's artifact root. */
export const IMAGES_DIR = 'images';

const NAME = /^(.+?)[+%]step[+%](-?\d+)[+%]timestamp[+%](\d+)[+%]([0-9a-fA-F-]+)([+%]compressed)?\.([A-Za-z0-9]+)$/;

/** What a file name under images/ says, or undefined for any other file. */
export function parseLoggedImageName(file: string): { key: string; step: number; timestamp: number; id: string; compressed: boolean } | undefined {
  const base = file.split('/').pop() ?? file;
  const m = NAME.exec(base);
  if (!m) return undefined;
  return { key: m[1]!.replace(/[~#]/g, '/'), step: Number(m[2]), timestamp: Number(m[3]), id: m[4]!, compressed: Boolean(m[5]) };
}

/** Groups artifact paths into one series per key; files that are not per-step images are left out. */
export function groupLoggedImages(paths: string[]): ImageSeries[] {
  const byId = new Map<string, { key: string; image: LoggedImage }>();
  for (const p of paths) {
    const n = parseLoggedImageName(p);
    if (!n) continue;
    const id = `${n.key}\0${n.id}`;
    const entry = byId.get(id) ?? { key: n.key, image: { step: n.step, timestamp: n.timestamp, path: '' } };
    if (n.compressed) entry.image.thumbnail = p;
    else entry.image.path = p;
    byId.set(id, entry);
  }
  const series = new Map<string, LoggedImage[]>();
  for (const { key, image } of byId.values()) {
    if (!image.path) image.path = image.thumbnail!; // only the thumbnail arrived (so far)
    const list = series.get(key) ?? [];
    list.push(image);
    series.set(key, list);
  }
  return [...series.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, images]) => ({ key, images: images.sort((a, b) => a.step - b.step || a.timestamp - b.timestamp) }));
}

/** The distinct steps across several series (compare: one slider for all runs). */
export function stepsOf(series: ImageSeries[]): number[] {
  return [...new Set(series.flatMap((s) => s.images.map((i) => i.step)))].sort((a, b) => a - b);
}

/** The image to show at `step`: the last one logged at or before it (a run may skip steps). */
export function imageAtStep(series: ImageSeries | undefined, step: number): LoggedImage | undefined {
  let found: LoggedImage | undefined;
  for (const i of series?.images ?? []) if (i.step <= step) found = i;
  return found;
}
