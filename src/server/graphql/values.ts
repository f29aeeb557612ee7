/**
 * GraphQL input values: checking literals in the document, coercing literals and JSON variables
 * to the values resolvers take (input objects keep their camelCase keys, enums their names,
 * `LongString` becomes a number), and serialising leaf results. Messages follow graphql-core's.
 */
import type { ValueNode } from './parser';
import { ENUMS, INPUTS, namedType, parseTypeRef, typeRefString, type TypeRef } from './schema';

/** A variable value that doesn't fit: the message, where in the variable, and the value there. */
export class CoercionError extends Error {
  constructor(
    message: string,
    readonly path: string[],
    readonly value: unknown,
  ) {
    super(message);
  }
}

const INT32_MAX = 2 ** 31 - 1;

/** GraphQL's printed form of a literal. */
export function printValue(v: ValueNode): string {
  switch (v.kind) {
    case 'Variable':
      return `$${v.name}`;
    case 'String':
      return JSON.stringify(v.value);
    case 'Boolean':
      return String(v.value);
    case 'Null':
      return 'null';
    case 'List':
      return `[${v.values.map(printValue).join(', ')}]`;
    case 'Object':
      return `{${v.fields.map((f) => `${f.name}: ${printValue(f.value)}`).join(', ')}}`;
    default:
      return v.value;
  }
}

/** Python's repr of a JSON value, as graphql-core's `inspect` shows variables. */
export function inspect(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return `[${v.map(inspect).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${inspect(k)}: ${inspect(x)}`).join(', ')}}`;
}

/** The problem with a literal argument for `type`, or undefined. Variables are checked by kind only. */
export function literalProblem(v: ValueNode, type: TypeRef, vars: Map<string, TypeRef>): string | undefined {
  if (v.kind === 'Variable') {
    const declared = vars.get(v.name);
    if (!declared) return undefined;
    const fits = namedType(declared) === namedType(type) && (type.kind !== 'nonNull' || declared.kind === 'nonNull');
    return fits ? undefined : `Variable '$${v.name}' of type '${typeRefString(declared)}' used in position expecting type '${typeRefString(type)}'.`;
  }
  if (type.kind === 'nonNull') return v.kind === 'Null' ? `Expected value of type '${typeRefString(type)}', found null.` : literalProblem(v, type.of, vars);
  if (v.kind === 'Null') return undefined;
  if (type.kind === 'list') {
    const items = v.kind === 'List' ? v.values : [v];
    for (const item of items) {
      const p = literalProblem(item, type.of, vars);
      if (p) return p;
    }
    return undefined;
  }
  const name = type.name;
  const shown = printValue(v);
  switch (name) {
    case 'String':
      return v.kind === 'String' ? undefined : `String cannot represent a non string value: ${shown}`;
    case 'Int':
      return v.kind === 'Int' && Math.abs(Number(v.value)) <= INT32_MAX ? undefined : `Int cannot represent non-integer value: ${shown}`;
    case 'Float':
      return v.kind === 'Int' || v.kind === 'Float' ? undefined : `Float cannot represent non numeric value: ${shown}`;
    case 'Boolean':
      return v.kind === 'Boolean' ? undefined : `Boolean cannot represent a non boolean value: ${shown}`;
    case 'LongString':
      return undefined; // MLflow's scalar reads a non-integer literal as null
  }
  if (ENUMS[name]) {
    if (v.kind !== 'Enum') return `Enum '${name}' cannot represent non-enum value: ${shown}.`;
    return ENUMS[name].includes(v.value) ? undefined : `Value '${v.value}' does not exist in '${name}' enum.`;
  }
  const fields = INPUTS[name];
  if (!fields) return undefined;
  if (v.kind !== 'Object') return `Expected value of type '${name}', found ${shown}.`;
  for (const f of v.fields) {
    const t = fields[f.name];
    if (t === undefined) return `Field '${f.name}' is not defined by type '${name}'.`;
    const p = literalProblem(f.value, parseTypeRef(t), vars);
    if (p) return p;
  }
  return undefined;
}

/** A (validated) literal's value; variables come from `vars` (absent ones are left out). */
export function literalValue(v: ValueNode, type: TypeRef, vars: Record<string, unknown>): unknown {
  if (v.kind === 'Variable') return vars[v.name];
  if (type.kind === 'nonNull') return literalValue(v, type.of, vars);
  if (v.kind === 'Null') return null;
  if (type.kind === 'list') return (v.kind === 'List' ? v.values : [v]).map((item) => literalValue(item, type.of, vars));
  switch (type.name) {
    case 'Int':
    case 'Float':
      return Number((v as { value: string }).value);
    case 'LongString':
      return v.kind === 'Int' ? Number(v.value) : null;
    case 'String':
    case 'Boolean':
      return (v as { value: unknown }).value;
  }
  if (ENUMS[type.name]) return (v as { value: string }).value;
  const out: Record<string, unknown> = {};
  const fields = INPUTS[type.name] ?? {};
  for (const f of (v as Extract<ValueNode, { kind: 'Object' }>).fields) {
    const value = literalValue(f.value, parseTypeRef(fields[f.name]!), vars);
    if (value !== undefined) out[f.name] = value;
  }
  return out;
}

/** A JSON variable value coerced to `type`; throws CoercionError(`<message>`, path) when it doesn't fit. */
export function coerceVariable(value: unknown, type: TypeRef, path: string[]): unknown {
  const fail = (msg: string): never => {
    throw new CoercionError(msg, path, value);
  };
  if (type.kind === 'nonNull') {
    if (value === null || value === undefined) fail(`Expected non-nullable type '${typeRefString(type)}' not to be null.`);
    return coerceVariable(value, type.of, path);
  }
  if (value === null || value === undefined) return null;
  if (type.kind === 'list') {
    const items = Array.isArray(value) ? value : [value];
    return items.map((item, i) => coerceVariable(item, type.of, Array.isArray(value) ? [...path, `[${i}]`] : path));
  }
  const name = type.name;
  switch (name) {
    case 'String':
      return typeof value === 'string' ? value : fail(`String cannot represent a non string value: ${inspect(value)}`);
    case 'Int':
      if (typeof value !== 'number' || !Number.isInteger(value)) return fail(`Int cannot represent non-integer value: ${inspect(value)}`);
      return Math.abs(value) > INT32_MAX ? fail(`Int cannot represent non 32-bit signed integer value: ${inspect(value)}`) : value;
    case 'Float':
      return typeof value === 'number' ? value : fail(`Float cannot represent non numeric value: ${inspect(value)}`);
    case 'Boolean':
      return typeof value === 'boolean' ? value : fail(`Boolean cannot represent a non boolean value: ${inspect(value)}`);
    case 'LongString': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isInteger(n)) fail(`Expected type 'LongString'. invalid literal for int() with base 10: ${inspect(value)}`);
      return n;
    }
  }
  if (ENUMS[name]) {
    if (typeof value === 'string' && ENUMS[name].includes(value)) return value;
    return fail(typeof value === 'string' ? `Value '${value}' does not exist in '${name}' enum.` : `Enum '${name}' cannot represent non-string value: ${inspect(value)}.`);
  }
  const fields = INPUTS[name] ?? {};
  if (typeof value !== 'object' || Array.isArray(value)) return fail(`Expected type '${name}' to be a mapping.`);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const t = fields[k];
    if (t === undefined) fail(`Field '${k}' is not defined by type '${name}'.`);
    out[k] = coerceVariable(v, parseTypeRef(t!), [...path, k]);
  }
  return out;
}

/** Python's repr of a non-finite float, as graphql-core names it. */
function pyFloat(v: number): string {
  return Number.isNaN(v) ? 'nan' : v > 0 ? 'inf' : '-inf';
}

/** A leaf result serialised for `typeName`; throws with graphql-core's message when it can't be. */
export function serializeLeaf(typeName: string, v: unknown): unknown {
  switch (typeName) {
    case 'String':
      return String(v);
    case 'LongString':
      return String(v);
    case 'Boolean':
      return Boolean(v);
    case 'Int':
      return Number(v);
    case 'Float': {
      const n = Number(v);
      if (!Number.isFinite(n)) throw new Error(`Float cannot represent non numeric value: ${pyFloat(n)}`);
      return n;
    }
  }
  if (ENUMS[typeName]) {
    if (typeof v === 'string' && ENUMS[typeName].includes(v)) return v;
    throw new Error(`Enum '${typeName}' cannot represent value: ${inspect(v)}`);
  }
  return v;
}
