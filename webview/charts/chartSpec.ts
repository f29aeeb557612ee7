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
  colors: string[];
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

export function chartSpec(o: ChartOptions, rows: ChartRow[]): TopLevelSpec {
  const theme = themeConfig();
  const x =
    o.axis === 'wall'
      ? { field: 'x', type: 'temporal' as const, title: 'wall time' }
      : { field: 'x', type: 'quantitative' as const, title: o.axis === 'relative' ? 'seconds since the run started' : 'step' };
  const y = { field: 'shown', type: 'quantitative' as const, title: o.key, scale: { type: o.logScale ? ('log' as const) : ('linear' as const), zero: false } };
  const color = { field: 'run', type: 'nominal' as const, title: 'run', scale: { range: o.colors } };
  const picked = { param: 'pick', value: 1 };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: o.width,
    height: 240,
    background: 'transparent',
    data: { name: 'series' },
    datasets: { series: rows as unknown as Record<string, unknown>[] },
    config: { ...theme, legend: { ...theme.legend, orient: 'bottom', columns: 3, labelLimit: 260 } },
    layer: [
      ...(o.envelope
        ? [{ mark: { type: 'area' as const, opacity: 0.18 }, encoding: { x, y: { field: 'min', type: 'quantitative' as const, scale: y.scale, title: o.key }, y2: { field: 'max' }, color, opacity: { condition: { param: 'pick', value: 0.18 }, value: 0.03 } } }]
        : []),
      ...(o.smoothing ? [{ mark: { type: 'line' as const, strokeWidth: 1, opacity: 0.25 }, encoding: { x, y: { ...y, field: 'value' }, color, detail: { field: 'runId' } } }] : []),
      {
        mark: { type: 'line' as const, strokeWidth: 1.6 },
        params: [{ name: 'pick', select: { type: 'point' as const, fields: ['run'] }, bind: 'legend' as const }],
        encoding: { x, y, color, detail: { field: 'runId' }, opacity: { condition: picked, value: 0.12 } },
      },
      {
        mark: { type: 'point' as const, filled: true, size: 40 },
        params: [{ name: 'hover', select: { type: 'point' as const, on: 'pointerover', clear: 'pointerout', nearest: true } }],
        encoding: {
          x,
          y,
          color,
          opacity: { condition: { param: 'hover', empty: false, value: 1 }, value: 0 },
          tooltip: [
            { field: 'run', title: 'run' },
            { field: 'x', title: x.title, ...(o.axis === 'wall' ? { type: 'temporal' as const, format: '%Y-%m-%d %H:%M:%S' } : { type: 'quantitative' as const }) },
            { field: 'value', title: o.key, type: 'quantitative' as const, format: '.6~g' },
            ...(o.smoothing ? [{ field: 'shown', title: 'smoothed', type: 'quantitative' as const, format: '.6~g' }] : []),
          ],
        },
      },
    ],
  };
}
