/** The vega-lite spec for one metric across runs, themed from VS Code's CSS variables. */
import type { TopLevelSpec } from 'vega-lite';

export interface ChartRow {
  run: string;
  runId: string;
  x: number;
  value: number;
  shown: number;
  min: number;
  max: number;
}

export interface ChartOptions {
  key: string;
  axis: 'step' | 'wall' | 'relative';
  logScale: boolean;
  envelope: boolean;
  smoothing: boolean;
  width: number;
  height: number;
  /** Run labels in legend order, and their colors (the same in every chart). */
  runs: string[];
  colors: string[];
}

/** One run's latest value of a single-value metric. */
export interface BarRow {
  run: string;
  runId: string;
  value: number;
}

export function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Fonts, axis and legend colors from the VS Code theme (or the browser theme file). */
export function themeConfig(): NonNullable<TopLevelSpec['config']> {
  const fg = cssVar('--vscode-foreground', '#cccccc');
  const grid = cssVar('--vscode-editorWidget-border', '#454545');
  return {
    font: cssVar('--vscode-font-family', 'sans-serif'),
    axis: { labelColor: fg, titleColor: fg, gridColor: grid, domainColor: grid, tickColor: grid },
    legend: { labelColor: fg, titleColor: fg },
    view: { stroke: 'transparent' },
    title: { color: fg },
  };
}

export function themeColors(): string[] {
  return ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-purple', '--vscode-charts-red', '--vscode-charts-yellow'].map((v, i) =>
    cssVar(v, ['#3794ff', '#d18616', '#89d185', '#b180d7', '#f14c4c', '#cca700'][i]!),
  );
}

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export function chartSpec(o: ChartOptions, rows: ChartRow[]): TopLevelSpec {
  const x =
    o.axis === 'wall'
      ? { field: 'x', type: 'temporal' as const, title: 'wall time' }
      : { field: 'x', type: 'quantitative' as const, title: o.axis === 'relative' ? 'seconds since the run started' : 'step' };
  const y = { field: 'shown', type: 'quantitative' as const, title: o.key, scale: { type: o.logScale ? ('log' as const) : ('linear' as const), zero: false } };
  // The run legend is shared HTML above the grid, so each small chart keeps its area for data.
  const color = { field: 'run', type: 'nominal' as const, legend: null, scale: { domain: o.runs, range: o.colors } };
  return {
    $schema: SCHEMA,
    width: o.width,
    height: o.height,
    background: 'transparent',
    data: { name: 'series' },
    datasets: { series: rows as unknown as Record<string, unknown>[] },
    config: themeConfig(),
    layer: [
      ...(o.envelope ? [{ mark: { type: 'area' as const, opacity: 0.18 }, encoding: { x, y: { field: 'min', type: 'quantitative' as const, scale: y.scale, title: o.key }, y2: { field: 'max' }, color } }] : []),
      ...(o.smoothing ? [{ mark: { type: 'line' as const, strokeWidth: 1, opacity: 0.25 }, encoding: { x, y: { ...y, field: 'value' }, color, detail: { field: 'runId' } } }] : []),
      // Hover is hover.ts over the canvas (vega's nearest-point selection is too slow for a sweep).
      { mark: { type: 'line' as const, strokeWidth: 1.6 }, encoding: { x, y, color, detail: { field: 'runId' } } },
    ],
  };
}

/** A single-value metric across runs: one dot per run, best first, on a scale fitted to the values. */
export function barSpec(o: Pick<ChartOptions, 'key' | 'width' | 'runs' | 'colors' | 'logScale'>, rows: BarRow[]): TopLevelSpec {
  return {
    $schema: SCHEMA,
    width: o.width,
    height: { step: rows.length > 24 ? 10 : 14 },
    background: 'transparent',
    data: { values: rows as unknown as Record<string, unknown>[] },
    config: themeConfig(),
    mark: { type: 'point' as const, filled: true, size: 70 },
    encoding: {
      y: { field: 'run', type: 'nominal' as const, sort: '-x', title: null, axis: { labelLimit: 140, grid: true } },
      x: { field: 'value', type: 'quantitative' as const, title: `${o.key} (latest)`, scale: { zero: false, type: o.logScale ? ('log' as const) : ('linear' as const) } },
      color: { field: 'run', type: 'nominal' as const, legend: null, scale: { domain: o.runs, range: o.colors } },
      tooltip: [{ field: 'run', title: 'run' }, { field: 'value', title: o.key, type: 'quantitative' as const, format: '.6~g' }],
    },
  };
}
