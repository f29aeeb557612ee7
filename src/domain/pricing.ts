/**
 * Estimated cost of an LLM call from its token counts and model, at public list prices
 * (USD per million tokens, late 2025). An estimate only: unknown models are not costed, and
 * cached or batch discounts are ignored.
 */
const PRICES: [prefix: string, input: number, output: number][] = [
  ['gpt-4o-mini', 0.15, 0.6],
  ['gpt-4o', 2.5, 10],
  ['gpt-4.1-nano', 0.1, 0.4],
  ['gpt-4.1-mini', 0.4, 1.6],
  ['gpt-4.1', 2, 8],
  ['gpt-4-turbo', 10, 30],
  ['gpt-4', 30, 60],
  ['gpt-3.5-turbo', 0.5, 1.5],
  ['gpt-5-nano', 0.05, 0.4],
  ['gpt-5-mini', 0.25, 2],
  ['gpt-5', 1.25, 10],
  ['o4-mini', 1.1, 4.4],
  ['o3-mini', 1.1, 4.4],
  ['o3', 2, 8],
  ['o1-mini', 1.1, 4.4],
  ['o1', 15, 60],
  ['claude-3-5-haiku', 0.8, 4],
  ['claude-3-haiku', 0.25, 1.25],
  ['claude-haiku-4', 1, 5],
  ['claude-3-5-sonnet', 3, 15],
  ['claude-3-7-sonnet', 3, 15],
  ['claude-sonnet-4', 3, 15],
  ['claude-3-opus', 15, 75],
  ['claude-opus-4', 15, 75],
  ['gemini-2.5-pro', 1.25, 10],
  ['gemini-2.5-flash', 0.3, 2.5],
  ['gemini-2.0-flash', 0.1, 0.4],
  ['gemini-1.5-pro', 1.25, 5],
  ['gemini-1.5-flash', 0.075, 0.3],
  ['mistral-large', 2, 6],
  ['mistral-small', 0.2, 0.6],
];

/** Dollars for one call, or undefined when the model is unknown or there are no token counts. */
export function estimateCost(model: string | undefined, tokens: { input?: number; output?: number } | undefined): number | undefined {
  if (!model || !tokens || (tokens.input === undefined && tokens.output === undefined)) return undefined;
  const name = model.toLowerCase().replace(/^[a-z-]+\//, '');
  let best: [string, number, number] | undefined;
  for (const p of PRICES) if (name.startsWith(p[0]) && (!best || p[0].length > best[0].length)) best = p;
  if (!best) return undefined;
  return ((tokens.input ?? 0) * best[1] + (tokens.output ?? 0) * best[2]) / 1_000_000;
}

export function formatCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(5)}`;
  return `$${usd.toFixed(usd < 1 ? 4 : 2)}`;
}
