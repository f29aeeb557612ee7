/**
 * vega (≈860 KB) as one shared chunk, imported on first use: a view starts its data requests
 * while the chunk loads and evaluates, instead of after it, and every view shares the one copy.
 */
import type { Result } from 'vega-embed';
import type { TopLevelSpec } from 'vega-lite';

export type VegaView = Result;

let loading: Promise<typeof import('./embed')> | undefined;

/** Starts loading vega (call early; later calls share the load). */
export function preloadVega(): Promise<unknown> {
  loading ??= import('./embed').then((m) => (performance.mark('runlens:vega'), m));
  return loading;
}

/** Draws a vega-lite spec into `host`. */
export async function renderSpec(host: HTMLElement, spec: TopLevelSpec): Promise<VegaView> {
  loading ??= import('./embed');
  return (await loading).embedSpec(host, spec);
}
