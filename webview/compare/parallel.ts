/**
 * Parallel coordinates over params and a metric: numeric columns scaled to their range, string
 * columns (`max_features=sqrt`, `max_depth=None`) as categorical axes with their values spread
 * evenly, one line per run, colored by the chosen metric.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { RunRow } from '../../src/ui/protocol';
import { formatValue } from '../format';
import { cssVar, themeConfig } from '../charts/chartSpec';
import { axisOf, numberOf, position, rawValue, UNSET, type Axis } from './parallelAxes';

/** Labels along each axis: every category, or a numeric column's min, middle and max. */
function ticks(dim: string, axis: Axis): { dim: string; norm: number; label: string }[] {
  if (axis.kind === 'category') return axis.values.map((v, i) => ({ dim, norm: axis.values.length === 1 ? 0.5 : i / (axis.values.length - 1), label: v }));
  if (axis.hi === axis.lo) return [{ dim, norm: 0.5, label: formatValue(axis.lo) }];
  return [0, 0.5, 1].map((t) => ({ dim, norm: t, label: formatValue(axis.lo + t * (axis.hi - axis.lo)) }));
}

export function parallelSpec(runs: RunRow[], label: (r: RunRow) => string, cols: string[], colorBy: string): TopLevelSpec {
  const dims = cols.map((c) => c.replace(':', ' '));
  const axes = cols.map((c) => axisOf(runs, c));
  const lines = runs.flatMap((r) =>
    cols.map((c, i) => {
      const v = rawValue(r, c);
      return { run: label(r), dim: dims[i], value: v === undefined ? UNSET : String(v), norm: position(axes[i]!, v), color: numberOf(r, colorBy) ?? null };
    }),
  );
  const labels = cols.flatMap((_, i) => ticks(dims[i]!, axes[i]!));
  const x = { field: 'dim', type: 'nominal' as const, sort: dims, title: null, axis: { labelAngle: 0, orient: 'top' as const, domain: false, ticks: false } };
  const y = { field: 'norm', type: 'quantitative' as const, title: null, axis: null, scale: { domain: [0, 1] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: Math.max(360, cols.length * 130),
    height: 260,
    background: 'transparent',
    config: themeConfig(),
    layer: [
      // One vertical rule per column: the axes themselves.
      { data: { values: dims.map((dim) => ({ dim })) }, mark: { type: 'rule', opacity: 0.5 }, encoding: { x, color: { value: cssVar('--vscode-editorWidget-border', '#6b6b6b') } } },
      {
        data: { values: lines },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x,
          y,
          detail: { field: 'run' },
          color: { field: 'color', type: 'quantitative', title: colorBy.replace(':', ' '), scale: { scheme: 'viridis' } },
          tooltip: [{ field: 'run' }, { field: 'dim', title: 'column' }, { field: 'value', title: 'value' }],
        },
      },
      { data: { values: labels }, mark: { type: 'text', align: 'left', dx: 5, fontSize: 10, opacity: 0.85, color: cssVar('--vscode-foreground', '#cccccc') }, encoding: { x, y, text: { field: 'label' } } },
    ],
  } as TopLevelSpec;
}
