/**
 * Static checks on a parsed request document, before anything runs: MLflow's query-safety scan
 * (`graphql_no_batching.check_query_safety`: depth, total selections, root fields, aliases) and
 * the graphql-core validation rules that the UI's documents can trip over, with graphql-core's
 * wording (unknown fields, arguments, fragments, types and directives; sub-selections; input
 * literals; variables undefined or unused; conflicting response keys).
 */
import type { Directive, Document, FieldNode, Operation, Selection, TypeNode as ParsedType, ValueNode } from './parser';
import { ENUMS, INPUTS, OBJECTS, SCALARS, namedType, parseTypeRef, type TypeRef } from './schema';
import { literalProblem } from './values';

const MAX_DEPTH = 10;
const MAX_SELECTIONS = 1000;

export interface SafetyLimits {
  maxRootFields: number;
  maxAliases: number;
}

/** MLflow's safety scan; returns its error message, if any. */
export function safetyProblem(doc: Document, limits: SafetyLimits): string | undefined {
  let rootFields = 0;
  let maxAliases = 0;
  let total = 0;
  const collect = (selections: Selection[], visited: Set<string>): { fields: FieldNode[]; aliases: number } => {
    const fields: FieldNode[] = [];
    let aliases = 0;
    const queue = [...selections];
    const seen = new Set(visited);
    while (queue.length) {
      const s = queue.shift()!;
      if (s.kind === 'Field') {
        fields.push(s);
        if (s.alias) aliases++;
      } else if (s.kind === 'InlineFragment') queue.push(...s.selections);
      else if (!seen.has(s.name)) {
        seen.add(s.name);
        queue.push(...(doc.fragments.get(s.name)?.selections ?? []));
      }
    }
    return { fields, aliases };
  };
  for (const op of doc.operations) {
    const stack: { selections: Selection[]; depth: number }[] = [{ selections: op.selections, depth: 1 }];
    while (stack.length) {
      const { selections, depth } = stack.pop()!;
      if (depth > MAX_DEPTH) return `Query exceeds maximum depth of ${MAX_DEPTH}`;
      const { fields, aliases } = collect(selections, new Set());
      for (const f of fields) {
        if (depth === 1) rootFields++;
        if (f.selections) stack.push({ selections: f.selections, depth: depth + 1 });
        if (++total > MAX_SELECTIONS) return `Query exceeds maximum total selections of ${MAX_SELECTIONS}`;
      }
      maxAliases = Math.max(maxAliases, aliases);
    }
  }
  const over = (what: string, limit: number, got: number, env: string): string =>
    `GraphQL queries should have at most ${limit} ${what}, got ${got} ${what}. To increase the limit, set the ${env} environment variable.`;
  if (rootFields > limits.maxRootFields) return over('root fields', limits.maxRootFields, rootFields, 'MLFLOW_SERVER_GRAPHQL_MAX_ROOT_FIELDS');
  if (maxAliases > limits.maxAliases) return over('aliases', limits.maxAliases, maxAliases, 'MLFLOW_SERVER_GRAPHQL_MAX_ALIASES');
  return undefined;
}

function isInputType(name: string): boolean {
  return SCALARS.has(name) || name in ENUMS || name in INPUTS;
}

function rootType(op: Operation): string {
  return op.operation === 'mutation' ? 'Mutation' : 'Query';
}

/** Every validation error in the document (empty: it may run). */
export function validateDocument(doc: Document): string[] {
  const errors: string[] = [];
  const usedFragments = new Set<string>();

  const directives = (list: Directive[], location: 'QUERY' | 'MUTATION' | 'FIELD' | 'FRAGMENT_SPREAD' | 'INLINE_FRAGMENT' | 'FRAGMENT_DEFINITION'): void => {
    for (const d of list) {
      if (d.name !== 'component') errors.push(`Unknown directive '@${d.name}'.`);
      else if (location !== 'QUERY' && location !== 'MUTATION') errors.push(`Directive '@component' may not be used on ${location}.`);
    }
  };

  for (const f of doc.fragments.values()) {
    if (!(f.typeCondition in OBJECTS)) errors.push(`Unknown type '${f.typeCondition}'.`);
  }

  for (const op of doc.operations) {
    const opLabel = op.name ? ` by operation '${op.name}'` : '';
    const inLabel = op.name ? ` in operation '${op.name}'` : '';
    if (op.operation === 'subscription') {
      errors.push('Schema is not configured to execute subscription operation.');
      continue;
    }
    directives(op.directives, op.operation === 'mutation' ? 'MUTATION' : 'QUERY');
    const defined = new Map<string, TypeRef>();
    for (const v of op.variables) {
      const type = toTypeRef(v.type);
      const base = namedType(type);
      if (!(base in OBJECTS) && !isInputType(base)) errors.push(`Unknown type '${base}'.`);
      else if (!isInputType(base)) errors.push(`Variable '$${v.name}' cannot be non-input type '${typeText(v.type)}'.`);
      defined.set(v.name, type);
    }
    const used = new Set<string>();
    const visitValue = (value: ValueNode): void => {
      if (value.kind === 'Variable') {
        used.add(value.name);
        if (!defined.has(value.name)) errors.push(`Variable '$${value.name}' is not defined${opLabel}.`);
      } else if (value.kind === 'List') value.values.forEach(visitValue);
      else if (value.kind === 'Object') value.fields.forEach((f) => visitValue(f.value));
    };
    const fragmentsOnPath = new Set<string>();
    const visit = (typeName: string, selections: Selection[]): void => {
      const keys = new Map<string, FieldNode>();
      for (const s of selections) {
        if (s.kind === 'FragmentSpread') {
          directives(s.directives, 'FRAGMENT_SPREAD');
          const frag = doc.fragments.get(s.name);
          usedFragments.add(s.name);
          if (!frag) {
            errors.push(`Unknown fragment '${s.name}'.`);
            continue;
          }
          if (!(frag.typeCondition in OBJECTS)) continue;
          if (frag.typeCondition !== typeName) {
            errors.push(`Fragment '${s.name}' cannot be spread here as objects of type '${typeName}' can never be of type '${frag.typeCondition}'.`);
            continue;
          }
          if (fragmentsOnPath.has(s.name)) {
            errors.push(`Cannot spread fragment '${s.name}' within itself.`);
            continue;
          }
          fragmentsOnPath.add(s.name);
          visit(typeName, frag.selections);
          fragmentsOnPath.delete(s.name);
          continue;
        }
        if (s.kind === 'InlineFragment') {
          directives(s.directives, 'INLINE_FRAGMENT');
          const cond = s.typeCondition ?? typeName;
          if (!(cond in OBJECTS)) errors.push(`Unknown type '${cond}'.`);
          else if (cond !== typeName) errors.push(`Fragment cannot be spread here as objects of type '${typeName}' can never be of type '${cond}'.`);
          else visit(typeName, s.selections);
          continue;
        }
        directives(s.directives, 'FIELD');
        const key = s.alias ?? s.name;
        const earlier = keys.get(key);
        if (earlier && earlier.name !== s.name) {
          errors.push(`Fields '${key}' conflict because '${earlier.name}' and '${s.name}' are different fields. Use different aliases on the fields to fetch both if this was intentional.`);
        } else if (earlier && JSON.stringify(earlier.args) !== JSON.stringify(s.args)) {
          errors.push(`Fields '${key}' conflict because they have differing arguments. Use different aliases on the fields to fetch both if this was intentional.`);
        }
        keys.set(key, s);
        s.args.forEach((a) => visitValue(a.value));
        if (s.name === '__typename') {
          if (s.selections) errors.push(`Field '__typename' must not have a selection since type 'String!' has no subfields.`);
          continue;
        }
        const def = OBJECTS[typeName]?.[s.name];
        if (!def) {
          errors.push(`Cannot query field '${s.name}' on type '${typeName}'.`);
          continue;
        }
        for (const a of s.args) {
          const argType = def.args?.[a.name];
          if (argType === undefined) errors.push(`Unknown argument '${a.name}' on field '${typeName}.${s.name}'.`);
          else {
            const problem = literalProblem(a.value, parseTypeRef(argType), defined);
            if (problem) errors.push(problem);
          }
        }
        const target = namedType(parseTypeRef(def.type));
        const isObject = target in OBJECTS;
        if (isObject && !s.selections) {
          errors.push(`Field '${s.name}' of type '${def.type}' must have a selection of subfields. Did you mean '${s.name} { ... }'?`);
        } else if (!isObject && s.selections) {
          errors.push(`Field '${s.name}' must not have a selection since type '${def.type}' has no subfields.`);
        } else if (isObject && s.selections) visit(target, s.selections);
      }
    };
    visit(rootType(op), op.selections);
    for (const v of op.variables) if (!used.has(v.name)) errors.push(`Variable '$${v.name}' is never used${inLabel}.`);
  }
  for (const name of doc.fragments.keys()) if (!usedFragments.has(name)) errors.push(`Fragment '${name}' is never used.`);
  return errors;
}


export function toTypeRef(t: ParsedType): TypeRef {
  if (t.kind === 'Named') return { kind: 'named', name: t.name };
  return t.kind === 'List' ? { kind: 'list', of: toTypeRef(t.of) } : { kind: 'nonNull', of: toTypeRef(t.of) };
}

function typeText(t: ParsedType): string {
  return t.kind === 'Named' ? t.name : t.kind === 'List' ? `[${typeText(t.of)}]` : `${typeText(t.of)}!`;
}
