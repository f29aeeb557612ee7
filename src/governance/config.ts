/**
 * The governance file (`.runlens/governance.yaml`, or `runlens serve --governance FILE`): default
 * attribution, budgets, policies, pricing overrides and OpenTelemetry export. Validated whole, so
 * a typo is reported with its line instead of silently turning a budget off.
 */
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node as YamlNode, type Document } from 'yaml';
import { ATTRIBUTES, type Attribute, type Attribution } from './attribution';
import { DEFAULT_PRICING, type Pricing, type StorageBackend, STORAGE_BACKENDS } from './pricing';

export type Mode = 'warn' | 'enforce';

export interface Budget {
  /** How the budget is named in messages: its `name`, else its scope. */
  label: string;
  scope: Attribution;
  dailyUsd?: number | undefined;
  monthlyUsd?: number | undefined;
  mode: Mode;
}

export interface RequireTagsPolicy {
  tags: string[];
  mode: Mode;
  /** Enforce at create_run: the tags must come with the run (the client's `start_run(tags=…)`). */
  atCreate: boolean;
}

export interface GovernanceConfig {
  /** Where the file came from (messages name it), or undefined for settings-only configs. */
  source?: string | undefined;
  defaults: Attribution;
  budgets: Budget[];
  policies: {
    requireTags?: RequireTagsPolicy | undefined;
    allowedEnvironments?: { values: string[]; mode: Mode } | undefined;
    maxArtifactSizeMb?: { limit: number; mode: Mode } | undefined;
  };
  pricing: Pricing;
  otel: { enabled: boolean; exportTraces: boolean };
}

export class GovernanceConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'GovernanceConfigError';
  }
}

export function emptyConfig(): GovernanceConfig {
  return { defaults: {}, budgets: [], policies: {}, pricing: { ...DEFAULT_PRICING, storageGbMonthUsd: { ...DEFAULT_PRICING.storageGbMonthUsd }, llm: {} }, otel: { enabled: false, exportTraces: false } };
}

/** Reads the YAML text; throws GovernanceConfigError listing every problem as `file:line:col: …`. */
export function parseGovernanceConfig(text: string, source = 'governance.yaml'): GovernanceConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: YamlNode | null | undefined, msg: string) => {
    const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
    problems.push(pos ? `${source}:${pos.line}:${pos.col}: ${msg}` : `${source}: ${msg}`);
  };
  for (const e of doc.errors) {
    const pos = lines.linePos(e.pos[0]);
    problems.push(`${source}:${pos.line}:${pos.col}: ${e.message.split('\n')[0]}`);
  }
  const cfg = emptyConfig();
  cfg.source = source;
  if (problems.length === 0) readRoot(doc, cfg, at);
  if (problems.length) throw new GovernanceConfigError(problems);
  return cfg;
}

type At = (node: YamlNode | null | undefined, msg: string) => void;

function entries(node: YamlNode | null | undefined): [string, YamlNode | null | undefined, YamlNode][] {
  if (!isMap(node)) return [];
  return node.items.map((p) => [isScalar(p.key) ? String(p.key.value) : String(p.key), p.value as YamlNode | null | undefined, (p.key as YamlNode) ?? node]);
}

function readRoot(doc: Document, cfg: GovernanceConfig, at: At): void {
  const root = doc.contents as YamlNode | null;
  if (root === null || (isScalar(root) && root.value === null)) return;
  if (!isMap(root)) return at(root, 'the file must be a mapping with keys defaults, budgets, policies, pricing, otel');
  for (const [key, value, keyNode] of entries(root)) {
    switch (key) {
      case 'defaults':
        cfg.defaults = readAttribution(value, 'defaults', at);
        break;
      case 'budgets':
        cfg.budgets = readBudgets(value, at);
        break;
      case 'policies':
        readPolicies(value, cfg, at);
        break;
      case 'pricing':
        readPricing(value, cfg.pricing, at);
        break;
      case 'otel':
        for (const [k, v, kn] of entries(value)) {
          if (k === 'enabled') cfg.otel.enabled = bool(v, 'otel.enabled', at);
          else if (k === 'export_traces') cfg.otel.exportTraces = bool(v, 'otel.export_traces', at);
          else at(kn, `unknown key otel.${k} (expected enabled, export_traces)`);
        }
        break;
      default:
        at(keyNode, `unknown key '${key}' (expected defaults, budgets, policies, pricing, otel)`);
    }
  }
}

const ATTRIBUTE_ALIASES: Record<string, Attribute> = { customer: 'customer_id' };

function readAttribution(node: YamlNode | null | undefined, where: string, at: At): Attribution {
  const out: Attribution = {};
  if (!isMap(node)) {
    at(node, `${where} must be a mapping of ${ATTRIBUTES.join(', ')}`);
    return out;
  }
  for (const [k, v, kn] of entries(node)) {
    const attr = (ATTRIBUTES as readonly string[]).includes(k) ? (k as Attribute) : ATTRIBUTE_ALIASES[k];
    if (!attr) {
      at(kn, `unknown attribute ${where}.${k} (expected ${ATTRIBUTES.join(', ')})`);
      continue;
    }
    if (!isScalar(v) || v.value === null || typeof v.value === 'object') at(v ?? kn, `${where}.${k} must be a text value`);
    else out[attr] = String(v.value);
  }
  return out;
}

function mode(node: YamlNode | null | undefined, where: string, at: At): Mode {
  if (node === undefined) return 'warn';
  const v = isScalar(node) ? node.value : undefined;
  if (v === 'warn' || v === 'enforce') return v;
  at(node, `${where}.mode must be warn or enforce (got ${JSON.stringify(v ?? null)})`);
  return 'warn';
}

function dollars(node: YamlNode | null | undefined, where: string, at: At): number | undefined {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  at(node, `${where} must be a number of dollars ≥ 0 (got ${JSON.stringify(v ?? null)})`);
  return undefined;
}

function bool(node: YamlNode | null | undefined, where: string, at: At): boolean {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v === 'boolean') return v;
  at(node, `${where} must be true or false`);
  return false;
}

function strings(node: YamlNode | null | undefined, where: string, at: At): string[] {
  if (!isSeq(node) || node.items.length === 0) {
    at(node, `${where} must be a non-empty list`);
    return [];
  }
  const out: string[] = [];
  for (const item of node.items as (YamlNode | null)[]) {
    if (isScalar(item) && (typeof item.value === 'string' || typeof item.value === 'number')) out.push(String(item.value));
    else at(item, `${where} items must be text`);
  }
  return out;
}

function readBudgets(node: YamlNode | null | undefined, at: At): Budget[] {
  if (!isSeq(node)) {
    at(node, 'budgets must be a list of {scope, daily_usd and/or monthly_usd, mode}');
    return [];
  }
  const out: Budget[] = [];
  (node.items as (YamlNode | null)[]).forEach((item, i) => {
    const where = `budgets[${i}]`;
    if (!isMap(item)) return at(item, `${where} must be a mapping`);
    let scope: Attribution | undefined;
    let name: string | undefined;
    let m: Mode = 'warn';
    let daily: number | undefined;
    let monthly: number | undefined;
    for (const [k, v, kn] of entries(item)) {
      if (k === 'scope') scope = readAttribution(v, `${where}.scope`, at);
      else if (k === 'name') name = isScalar(v) ? String(v.value) : undefined;
      else if (k === 'mode') m = mode(v, where, at);
      else if (k === 'daily_usd') daily = dollars(v, `${where}.daily_usd`, at);
      else if (k === 'monthly_usd') monthly = dollars(v, `${where}.monthly_usd`, at);
      else at(kn, `unknown key ${where}.${k} (expected name, scope, daily_usd, monthly_usd, mode)`);
    }
    if (!scope || Object.keys(scope).length === 0) return at(item, `${where} needs a scope, e.g. scope: {team: ml}`);
    if (daily === undefined && monthly === undefined) return at(item, `${where} needs daily_usd or monthly_usd`);
    const label = name ?? Object.entries(scope).map(([k, v]) => `${k}=${v}`).join(', ');
    out.push({ label, scope, dailyUsd: daily, monthlyUsd: monthly, mode: m });
  });
  return out;
}

function readPolicies(node: YamlNode | null | undefined, cfg: GovernanceConfig, at: At): void {
  if (!isMap(node)) return at(node, 'policies must be a mapping of require_tags, allowed_environments, max_artifact_size_mb');
  for (const [k, v, kn] of entries(node)) {
    const where = `policies.${k}`;
    const fields = new Map(entries(v).map(([fk, fv, fkn]) => [fk, { v: fv, kn: fkn }]));
    if (!isMap(v)) {
      at(v ?? kn, `${where} must be a mapping`);
      continue;
    }
    const known = (names: string[]) => {
      for (const [fk, { kn: fkn }] of fields) if (!names.includes(fk)) at(fkn, `unknown key ${where}.${fk} (expected ${names.join(', ')})`);
    };
    if (k === 'require_tags') {
      known(['tags', 'mode', 'at_create']);
      const atCreate = fields.has('at_create') ? bool(fields.get('at_create')?.v, `${where}.at_create`, at) : false;
      cfg.policies.requireTags = { tags: strings(fields.get('tags')?.v, `${where}.tags`, at), mode: mode(fields.get('mode')?.v, where, at), atCreate };
    } else if (k === 'allowed_environments') {
      known(['values', 'mode']);
      cfg.policies.allowedEnvironments = { values: strings(fields.get('values')?.v, `${where}.values`, at), mode: mode(fields.get('mode')?.v, where, at) };
    } else if (k === 'max_artifact_size_mb') {
      known(['limit', 'mode']);
      const limitNode = fields.get('limit')?.v;
      const limit = isScalar(limitNode) && typeof limitNode.value === 'number' && limitNode.value > 0 ? limitNode.value : undefined;
      if (limit === undefined) at(limitNode ?? v, `${where}.limit must be a number of megabytes > 0`);
      else cfg.policies.maxArtifactSizeMb = { limit, mode: mode(fields.get('mode')?.v, where, at) };
    } else at(kn, `unknown policy '${k}' (expected require_tags, allowed_environments, max_artifact_size_mb)`);
  }
}

function readPricing(node: YamlNode | null | undefined, pricing: Pricing, at: At): void {
  if (!isMap(node)) return at(node, 'pricing must be a mapping');
  for (const [k, v, kn] of entries(node)) {
    const where = `pricing.${k}`;
    if (k === 'tracking_call_usd') pricing.trackingCallUsd = dollars(v, where, at) ?? pricing.trackingCallUsd;
    else if (k === 'registry_op_usd') pricing.registryOpUsd = dollars(v, where, at) ?? pricing.registryOpUsd;
    else if (k === 'artifact_storage_backend') {
      const b = isScalar(v) ? String(v.value) : '';
      if ((STORAGE_BACKENDS as readonly string[]).includes(b)) pricing.storageBackend = b as StorageBackend;
      else at(v, `${where} must be one of ${STORAGE_BACKENDS.join(', ')}`);
    } else if (k === 'storage_gb_month_usd') {
      for (const [b, bv, bkn] of entries(v)) {
        if (!(STORAGE_BACKENDS as readonly string[]).includes(b)) at(bkn, `unknown storage backend ${where}.${b} (expected ${STORAGE_BACKENDS.join(', ')})`);
        else pricing.storageGbMonthUsd[b as StorageBackend] = dollars(bv, `${where}.${b}`, at) ?? pricing.storageGbMonthUsd[b as StorageBackend];
      }
    } else if (k === 'llm') {
      for (const [model, mv, mkn] of entries(v)) {
        const f = new Map(entries(mv).map(([fk, fv]) => [fk, fv]));
        const input = dollars(f.get('input_per_million'), `${where}.${model}.input_per_million`, at);
        const output = dollars(f.get('output_per_million'), `${where}.${model}.output_per_million`, at);
        if (input !== undefined && output !== undefined) pricing.llm[model.toLowerCase()] = { input, output };
        else if (!isMap(mv)) at(mv ?? mkn, `${where}.${model} must be {input_per_million, output_per_million}`);
      }
    } else at(kn, `unknown key ${where} (expected tracking_call_usd, registry_op_usd, artifact_storage_backend, storage_gb_month_usd, llm)`);
  }
}
