/** vega-embed with the expression interpreter (the views' CSP has no 'unsafe-eval'). Loaded lazily: see lazyVega.ts. */
import embed, { type Result } from 'vega-embed';
import { expressionInterpreter } from 'vega-interpreter';
import type { TopLevelSpec } from 'vega-lite';

export async function embedSpec(host: HTMLElement, spec: TopLevelSpec): Promise<Result> {
  return embed(host, spec, { actions: false, renderer: 'canvas', ast: true, expr: expressionInterpreter, defaultStyle: false, tooltip: { theme: 'custom', disableDefaultStyle: true } });
}
