/**
 * Who a run's spend belongs to. Stored as run tags with GenOps' `genops.` prefix, so GenOps users
 * and MLflow's own UI see the same attribution Runlens aggregates by.
 */
import { ATTRIBUTES, GENOPS_PREFIX, type Attribute } from '../domain/genopsTags';
import type { Tag } from '../domain/types';

export { ATTRIBUTES, GENOPS_PREFIX, VIOLATION_TAG_PREFIX, type Attribute } from '../domain/genopsTags';
export type Attribution = Partial<Record<Attribute, string>>;

export const PARENT_RUN_TAG = 'mlflow.parentRunId';
export const USER_TAG = 'mlflow.user';

export function attributeTag(a: Attribute): string {
  return GENOPS_PREFIX + a;
}

/** The attribute a tag key sets, if it is one. */
export function attributeOfTag(key: string): Attribute | undefined {
  if (!key.startsWith(GENOPS_PREFIX)) return undefined;
  const a = key.slice(GENOPS_PREFIX.length);
  return (ATTRIBUTES as readonly string[]).includes(a) ? (a as Attribute) : undefined;
}

export function attributionOfTags(tags: Iterable<Tag>): Attribution {
  const out: Attribution = {};
  for (const t of tags) {
    const a = attributeOfTag(t.key);
    if (a && t.value !== '') out[a] = t.value;
  }
  return out;
}

/** Tags to add so a new run carries `inherited` where it set nothing itself. */
export function missingAttributionTags(own: Attribution, inherited: Attribution): Tag[] {
  const out: Tag[] = [];
  for (const a of ATTRIBUTES) if (own[a] === undefined && inherited[a] !== undefined) out.push({ key: attributeTag(a), value: inherited[a] });
  return out;
}

/** Whether every attribute of `scope` has the same value in `attribution`. */
export function inScope(scope: Attribution, attribution: Attribution): boolean {
  return ATTRIBUTES.every((a) => scope[a] === undefined || scope[a] === attribution[a]);
}

export function describeAttribution(a: Attribution): string {
  const parts = ATTRIBUTES.filter((k) => a[k] !== undefined).map((k) => `${k}=${a[k]}`);
  return parts.length ? parts.join(', ') : 'unattributed';
}
