/**
 * Nearest-point hover for the line charts, in plain DOM over vega's canvas. vega's own `nearest`
 * selection builds a Voronoi layer over every point, which cost ~2 s per chart of a 24-run sweep
 * (4,800 points) on this machine; a linear scan per pointer move, in pixel space, costs well
 * under a millisecond.
 */
import type { VegaView } from '../vega/lazyVega';
import { el } from '../dom';
import type { ChartRow } from './chartSpec';
import { formatValue } from '../format';

type Scale = ((v: number) => number) & { invert?: (p: number) => number };

export function attachHover(result: VegaView, rows: ChartRow[], key: string, xTitle: string, wallTime: boolean, smoothed: boolean): void {
  const container = result.view.container();
  if (!container || rows.length === 0) return;
  container.style.position = 'relative';
  const tip = el('div', { class: 'chart-tooltip', role: 'tooltip' });
  const dot = el('span', { class: 'chart-hover-dot' });
  tip.hidden = true;
  dot.hidden = true;
  container.append(dot, tip);
  let frame = 0;
  const hide = (): void => {
    tip.hidden = true;
    dot.hidden = true;
  };
  container.addEventListener('pointerleave', hide);
  container.addEventListener('pointermove', (e) => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      const canvas = container.querySelector('canvas');
      if (!canvas) return;
      const box = canvas.getBoundingClientRect();
      const [ox, oy] = result.view.origin();
      const px = e.clientX - box.left - ox;
      const py = e.clientY - box.top - oy;
      const sx = result.view.scale('x') as Scale;
      const sy = result.view.scale('y') as Scale;
      let best: ChartRow | undefined;
      let bestD = Infinity;
      for (const r of rows) {
        const dx = sx(r.x) - px;
        const dy = sy(r.shown) - py;
        const d = dx * dx + dy * dy;
        if (d < bestD) [best, bestD] = [r, d];
      }
      if (!best || bestD > 40 * 40) return hide();
      const x = wallTime ? new Date(best.x).toISOString().replace('T', ' ').slice(0, 19) : formatValue(best.x);
      tip.replaceChildren(line('run', best.run), line(xTitle, x), line(key, formatValue(best.value)), ...(smoothed ? [line('smoothed', formatValue(best.shown))] : []));
      const cx = sx(best.x) + ox;
      const cy = sy(best.shown) + oy;
      dot.style.left = `${cx - 4}px`;
      dot.style.top = `${cy - 4}px`;
      const right = cx > container.clientWidth / 2;
      tip.style.left = right ? '' : `${cx + 12}px`;
      tip.style.right = right ? `${container.clientWidth - cx + 12}px` : '';
      tip.style.top = `${Math.max(0, cy - 20)}px`;
      tip.hidden = false;
      dot.hidden = false;
    });
  });
}

function line(name: string, value: string): HTMLElement {
  const row = el('div');
  row.append(el('b', {}, name), ` ${value}`);
  return row;
}
