/**
 * What each operation costs. Amounts are kept as integer nano-dollars, so sums over millions of
 * operations are exact and a summary matches the pricing table to the last digit.
 */
import { estimateCost } from '../domain/pricing';

export const STORAGE_BACKENDS = ['local', 's3', 'azure', 'gcs'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];

export interface Pricing {
  trackingCallUsd: number;
  registryOpUsd: number;
  storageBackend: StorageBackend;
  /** Dollars per GB-month of artifact storage, prorated per day stored. */
  storageGbMonthUsd: Record<StorageBackend, number>;
  /** Overrides of the shared LLM price table, by model-name prefix (USD per million tokens). */
  llm: Record<string, { input: number; output: number }>;
}

export const DEFAULT_PRICING: Pricing = {
  trackingCallUsd: 0.0001,
  registryOpUsd: 0.0005,
  storageBackend: 'local',
  storageGbMonthUsd: { local: 0, s3: 0.023, azure: 0.02, gcs: 0.02 },
  llm: {},
};

export const NANO = 1_000_000_000;

export function toNano(usd: number): number {
  return Math.round(usd * NANO);
}

export function fromNano(nano: number): number {
  return nano / NANO;
}

/** Dollars as text with no float noise: `0.0005`, `12.3`. */
export function formatUsd(nano: number): string {
  const sign = nano < 0 ? '-' : '';
  const abs = Math.abs(nano);
  const whole = Math.floor(abs / NANO);
  const frac = String(abs % NANO).padStart(9, '0').replace(/0+$/, '');
  return `${sign}$${whole}${frac ? '.' + frac : ''}`;
}

const GB = 1024 ** 3;
const DAY_MS = 86_400_000;

/** One day of storing `bytes` (a GB-month prorated over 30 days). */
export function storagePerDayNano(pricing: Pricing, bytes: number): number {
  return Math.round((bytes / GB) * toNano(pricing.storageGbMonthUsd[pricing.storageBackend]) / 30);
}

/** Storage cost of `bytes` kept from `sinceMs` to `untilMs`, by whole or partial days. */
export function storageCostNano(pricing: Pricing, bytes: number, sinceMs: number, untilMs: number): number {
  const days = Math.max(0, untilMs - sinceMs) / DAY_MS;
  return Math.round(storagePerDayNano(pricing, bytes) * days);
}

export function llmCostNano(pricing: Pricing, model: string | undefined, tokens: { input?: number | undefined; output?: number | undefined }): number | undefined {
  if (!model) return undefined;
  const name = model.toLowerCase().replace(/^[a-z-]+\//, '');
  let best: string | undefined;
  for (const prefix of Object.keys(pricing.llm)) if (name.startsWith(prefix) && (!best || prefix.length > best.length)) best = prefix;
  if (best) {
    const p = pricing.llm[best]!;
    return toNano(((tokens.input ?? 0) * p.input + (tokens.output ?? 0) * p.output) / 1_000_000);
  }
  const usd = estimateCost(model, { input: tokens.input, output: tokens.output });
  return usd === undefined ? undefined : toNano(usd);
}
