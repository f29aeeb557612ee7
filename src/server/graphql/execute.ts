/**
 * Executing a validated document against the schema in `schema.ts`. Root fields call resolvers;
 * every other field reads its proto-JSON key (snake_case), and an absent value reads as the
 * proto default MLflow's resolvers see on a protobuf message ('' for strings, '0' for int64s,
 * false, [] and an empty message), unless a field resolver is registered for it. A failing
 * field becomes null and adds its message to `errors`, as graphql-core reports it.
 */
import type { Document, FieldNode, Operation, Selection } from './parser';
import { DEFAULT_ROOT_CLASS, ENUMS, OBJECTS, ROOT_CLASS, SCALARS, parseTypeRef, snake, typeRefString, type TypeRef } from './schema';
import { coerceVariable, CoercionError, inspect, literalValue, serializeLeaf } from './values';
import { toTypeRef } from './validate';

export type Json = Record<string, unknown>;
export type RootResolver = (args: Json) => Promise<unknown>;
export type FieldResolver = (parent: Json) => Promise<unknown> | unknown;

export interface Resolvers {
  roots: Record<'Query' | 'Mutation', Record<string, RootResolver>>;
  /** Type → field → resolver, for fields that are not a plain read of the parent. */
  fields: Record<string, Record<string, FieldResolver>>;
}

export interface ExecutionResult {
  data: Json | null;
  errors: string[] | null;
}

/** Which operation runs; an error message when the request doesn't say and the document can't tell. */
export function pickOperation(doc: Document, operationName: string | undefined): Operation | string {
  if (operationName) return doc.operations.find((o) => o.name === operationName) ?? `Unknown operation named '${operationName}'.`;
  if (doc.operations.length === 0) return 'Must provide an operation.';
  if (doc.operations.length > 1) return 'Must provide operation name if query contains multiple operations.';
  return doc.operations[0]!;
}

/** The operation's variables from the request's JSON; graphql-core's messages when they don't fit. */
export function coerceVariables(op: Operation, given: Json): { values: Json } | { errors: string[] } {
  const values: Json = {};
  const errors: string[] = [];
  for (const def of op.variables) {
    const type = toTypeRef(def.type);
    const shown = typeRefString(type);
    if (!(def.name in given) || given[def.name] === undefined) {
      if (def.defaultValue) values[def.name] = literalValue(def.defaultValue, type, {});
      else if (type.kind === 'nonNull') errors.push(`Variable '$${def.name}' of required type '${shown}' was not provided.`);
      continue;
    }
    const value = given[def.name];
    if (value === null && type.kind === 'nonNull') {
      errors.push(`Variable '$${def.name}' of non-null type '${shown}' must not be null.`);
      continue;
    }
    try {
      values[def.name] = coerceVariable(value, type, []);
    } catch (err) {
      if (!(err instanceof CoercionError)) throw err;
      const at = err.path.length ? ` at '${[def.name, ...err.path].join('.').replace(/\.\[/g, '[')}'` : '';
      errors.push(`Variable '$${def.name}' got invalid value ${inspect(err.value)}${at}; ${err.message}`);
    }
  }
  return errors.length ? { errors } : { values };
}

class NullInNonNull extends Error {}

/** A proto message's default for an absent field of this type. */
function protoDefault(type: TypeRef): unknown {
  if (type.kind === 'nonNull') return protoDefault(type.of);
  if (type.kind === 'list') return [];
  switch (type.name) {
    case 'String':
      return '';
    case 'LongString':
    case 'Int':
    case 'Float':
      return 0;
    case 'Boolean':
      return false;
  }
  if (ENUMS[type.name] || SCALARS.has(type.name)) return null;
  return type.name === 'ApiError' ? null : {};
}

export class Executor {
  readonly errors: string[] = [];

  constructor(
    private readonly doc: Document,
    private readonly resolvers: Resolvers,
    private readonly vars: Json,
  ) {}

  /** Fields of one selection set in order, fragments merged in (the schema has no abstract types). */
  private collect(selections: Selection[], out = new Map<string, FieldNode[]>()): Map<string, FieldNode[]> {
    for (const s of selections) {
      if (s.kind === 'Field') {
        const key = s.alias ?? s.name;
        out.set(key, [...(out.get(key) ?? []), s]);
      } else if (s.kind === 'InlineFragment') this.collect(s.selections, out);
      else this.collect(this.doc.fragments.get(s.name)?.selections ?? [], out);
    }
    return out;
  }

  async run(op: Operation): Promise<ExecutionResult> {
    const root = op.operation === 'mutation' ? 'Mutation' : 'Query';
    const data: Json = {};
    for (const [key, nodes] of this.collect(op.selections)) {
      const node = nodes[0]!;
      if (node.name === '__typename') {
        data[key] = root;
        continue;
      }
      const def = OBJECTS[root]![node.name]!;
      const args: Json = {};
      for (const a of node.args) {
        const value = literalValue(a.value, parseTypeRef(def.args![a.name]!), this.vars);
        if (value !== undefined) args[a.name] = value;
      }
      let value: unknown;
      try {
        const argNames = Object.keys(def.args ?? {});
        const missing = argNames.find((n) => !(n in args));
        if (missing !== undefined) {
          const cls = ROOT_CLASS[root]?.[node.name] ?? DEFAULT_ROOT_CLASS[root]!;
          throw new Error(`${cls}.resolve_${snake(node.name)}() missing 1 required positional argument: '${snake(missing)}'`);
        }
        value = await this.resolvers.roots[root][node.name]!(args);
      } catch (err) {
        this.errors.push((err as Error).message);
        data[key] = null;
        continue;
      }
      data[key] = await this.complete(parseTypeRef(def.type), value, nodes);
    }
    return { data, errors: this.errors.length ? this.errors : null };
  }

  private async complete(type: TypeRef, value: unknown, nodes: FieldNode[]): Promise<unknown> {
    if (type.kind === 'nonNull') {
      const out = await this.complete(type.of, value, nodes);
      if (out === null) throw new NullInNonNull();
      return out;
    }
    if (value === null || value === undefined) return null;
    if (type.kind === 'list') {
      if (!Array.isArray(value)) return null;
      try {
        const out: unknown[] = [];
        for (const item of value) out.push(await this.complete(type.of, item, nodes));
        return out;
      } catch (err) {
        if (err instanceof NullInNonNull) return null;
        throw err;
      }
    }
    if (!(type.name in OBJECTS)) {
      try {
        return serializeLeaf(type.name, value);
      } catch (err) {
        this.errors.push((err as Error).message);
        return null;
      }
    }
    const parent = value as Json;
    const fields = OBJECTS[type.name]!;
    const selections = nodes.flatMap((n) => n.selections ?? []);
    const out: Json = {};
    for (const [key, group] of this.collect(selections)) {
      const node = group[0]!;
      if (node.name === '__typename') {
        out[key] = type.name;
        continue;
      }
      const def = fields[node.name]!;
      const fieldType = parseTypeRef(def.type);
      let raw: unknown;
      try {
        const custom = this.resolvers.fields[type.name]?.[node.name];
        raw = custom ? await custom(parent) : parent[snake(node.name)];
        if (raw === undefined || (raw === null && !custom)) raw = protoDefault(fieldType);
      } catch (err) {
        this.errors.push((err as Error).message);
        out[key] = null;
        continue;
      }
      out[key] = await this.complete(fieldType, raw, group);
    }
    return out;
  }
}
