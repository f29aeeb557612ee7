/**
 * A GraphQL request-document parser (the executable subset of the spec: operations, variables
 * with defaults, fields with arguments and aliases, directives, fragments and inline fragments).
 * Errors read like graphql-core's (`Syntax Error: Expected Name, found <EOF>.`), which is what
 * `mlflow server` parses with.
 */

export type ValueNode =
  | { kind: 'Variable'; name: string }
  | { kind: 'Int' | 'Float' | 'String' | 'Enum'; value: string }
  | { kind: 'Boolean'; value: boolean }
  | { kind: 'Null' }
  | { kind: 'List'; values: ValueNode[] }
  | { kind: 'Object'; fields: { name: string; value: ValueNode }[] };

export type TypeNode = { kind: 'Named'; name: string } | { kind: 'List'; of: TypeNode } | { kind: 'NonNull'; of: TypeNode };

export interface Directive {
  name: string;
  args: { name: string; value: ValueNode }[];
}

export interface FieldNode {
  kind: 'Field';
  alias?: string | undefined;
  name: string;
  args: { name: string; value: ValueNode }[];
  directives: Directive[];
  selections?: Selection[] | undefined;
}

export type Selection =
  | FieldNode
  | { kind: 'FragmentSpread'; name: string; directives: Directive[] }
  | { kind: 'InlineFragment'; typeCondition?: string | undefined; directives: Directive[]; selections: Selection[] };

export interface Operation {
  operation: 'query' | 'mutation' | 'subscription';
  name?: string | undefined;
  variables: { name: string; type: TypeNode; defaultValue?: ValueNode | undefined }[];
  directives: Directive[];
  selections: Selection[];
}

export interface Fragment {
  name: string;
  typeCondition: string;
  selections: Selection[];
}

export interface Document {
  operations: Operation[];
  fragments: Map<string, Fragment>;
}

export class GraphQLSyntaxError extends Error {}

type Token = { kind: 'punct' | 'name' | 'int' | 'float' | 'string' | 'eof'; value: string };

const PUNCT = new Set(['!', '$', '&', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}']);

function describe(t: Token): string {
  if (t.kind === 'eof') return '<EOF>';
  if (t.kind === 'punct') return `'${t.value}'`;
  if (t.kind === 'name') return `Name '${t.value}'`;
  if (t.kind === 'string') return 'String';
  return `${t.kind === 'int' ? 'Int' : 'Float'} '${t.value}'`;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (msg: string): never => {
    throw new GraphQLSyntaxError(`Syntax Error: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i]!;
    if (c === '#') {
      while (i < src.length && src[i] !== '\n' && src[i] !== '\r') i++;
    } else if (/[\s,\uFEFF]/.test(c)) {
      i++;
    } else if (c === '.') {
      if (src.startsWith('...', i)) {
        out.push({ kind: 'punct', value: '...' });
        i += 3;
      } else fail(`Unexpected '.'.`);
    } else if (PUNCT.has(c)) {
      out.push({ kind: 'punct', value: c });
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i))!;
      out.push({ kind: 'name', value: m[0] });
      i += m[0].length;
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(src.slice(i));
      if (!m) fail(`Invalid number, unexpected digit after '-'.`);
      out.push({ kind: m![1] || m![2] ? 'float' : 'int', value: m![0] });
      i += m![0].length;
    } else if (c === '"') {
      if (src.startsWith('"""', i)) {
        const end = src.indexOf('"""', i + 3);
        if (end < 0) fail('Unterminated string.');
        out.push({ kind: 'string', value: src.slice(i + 3, end) });
        i = end + 3;
        continue;
      }
      let j = i + 1;
      let value = '';
      for (;;) {
        if (j >= src.length || src[j] === '\n' || src[j] === '\r') fail('Unterminated string.');
        const ch = src[j]!;
        if (ch === '"') break;
        if (ch === '\\') {
          const e = src[j + 1];
          const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (e !== undefined && simple[e] !== undefined) {
            value += simple[e];
            j += 2;
          } else if (e === 'u' && /^[0-9A-Fa-f]{4}$/.test(src.slice(j + 2, j + 6))) {
            value += String.fromCharCode(parseInt(src.slice(j + 2, j + 6), 16));
            j += 6;
          } else fail(`Invalid character escape sequence: '\\${e ?? ''}'.`);
        } else {
          value += ch;
          j++;
        }
      }
      out.push({ kind: 'string', value });
      i = j + 1;
    } else {
      fail(`Unexpected character: '${c}'.`);
    }
  }
  out.push({ kind: 'eof', value: '' });
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private is(value: string): boolean {
    const t = this.peek();
    return (t.kind === 'punct' || t.kind === 'name') && t.value === value;
  }

  private fail(expected: string): never {
    throw new GraphQLSyntaxError(`Syntax Error: Expected ${expected}, found ${describe(this.peek())}.`);
  }

  private expect(value: string): void {
    if (!this.is(value) || this.peek().kind !== 'punct') this.fail(`'${value}'`);
    this.pos++;
  }

  private skip(value: string): boolean {
    if (this.is(value) && this.peek().kind === 'punct') {
      this.pos++;
      return true;
    }
    return false;
  }

  private name(): string {
    const t = this.peek();
    if (t.kind !== 'name') this.fail('Name');
    this.pos++;
    return t.value;
  }

  document(): Document {
    const doc: Document = { operations: [], fragments: new Map() };
    do {
      const t = this.peek();
      if (t.kind === 'punct' && t.value === '{') doc.operations.push({ operation: 'query', variables: [], directives: [], selections: this.selectionSet() });
      else if (t.kind === 'name' && (t.value === 'query' || t.value === 'mutation' || t.value === 'subscription')) doc.operations.push(this.operation());
      else if (t.kind === 'name' && t.value === 'fragment') {
        const f = this.fragment();
        doc.fragments.set(f.name, f);
      } else throw new GraphQLSyntaxError(`Syntax Error: Unexpected ${describe(t)}.`);
    } while (this.peek().kind !== 'eof');
    return doc;
  }

  private operation(): Operation {
    const operation = this.name() as Operation['operation'];
    const name = this.peek().kind === 'name' ? this.name() : undefined;
    const variables: Operation['variables'] = [];
    if (this.skip('(')) {
      do {
        this.expect('$');
        const v = this.name();
        this.expect(':');
        const type = this.type();
        const defaultValue = this.skip('=') ? this.value(true) : undefined;
        this.directives();
        variables.push({ name: v, type, defaultValue });
      } while (!this.skip(')'));
    }
    return { operation, name, variables, directives: this.directives(), selections: this.selectionSet() };
  }

  private fragment(): Fragment {
    this.name(); // 'fragment'
    const name = this.name();
    if (name === 'on') this.fail('Name');
    if (this.name() !== 'on') this.fail("'on'");
    const typeCondition = this.name();
    this.directives();
    return { name, typeCondition, selections: this.selectionSet() };
  }

  private type(): TypeNode {
    let t: TypeNode;
    if (this.skip('[')) {
      t = { kind: 'List', of: this.type() };
      this.expect(']');
    } else t = { kind: 'Named', name: this.name() };
    return this.skip('!') ? { kind: 'NonNull', of: t } : t;
  }

  private directives(): Directive[] {
    const out: Directive[] = [];
    while (this.skip('@')) out.push({ name: this.name(), args: this.arguments() });
    return out;
  }

  private arguments(): { name: string; value: ValueNode }[] {
    const out: { name: string; value: ValueNode }[] = [];
    if (!this.skip('(')) return out;
    do {
      const name = this.name();
      this.expect(':');
      out.push({ name, value: this.value(false) });
    } while (!this.skip(')'));
    return out;
  }

  private selectionSet(): Selection[] {
    this.expect('{');
    const out: Selection[] = [];
    do {
      if (this.skip('...')) {
        if (this.is('on') && this.peek().kind === 'name') {
          this.pos++;
          const typeCondition = this.name();
          out.push({ kind: 'InlineFragment', typeCondition, directives: this.directives(), selections: this.selectionSet() });
        } else if (this.peek().kind === 'name') {
          out.push({ kind: 'FragmentSpread', name: this.name(), directives: this.directives() });
        } else {
          out.push({ kind: 'InlineFragment', directives: this.directives(), selections: this.selectionSet() });
        }
        continue;
      }
      let alias: string | undefined;
      let name = this.name();
      if (this.skip(':')) {
        alias = name;
        name = this.name();
      }
      const args = this.arguments();
      const directives = this.directives();
      const selections = this.is('{') && this.peek().kind === 'punct' ? this.selectionSet() : undefined;
      out.push({ kind: 'Field', alias, name, args, directives, selections });
    } while (!this.skip('}'));
    return out;
  }

  private value(isConst: boolean): ValueNode {
    const t = this.peek();
    if (t.kind === 'punct') {
      if (t.value === '$' && !isConst) {
        this.pos++;
        return { kind: 'Variable', name: this.name() };
      }
      if (t.value === '[') {
        this.pos++;
        const values: ValueNode[] = [];
        while (!this.skip(']')) values.push(this.value(isConst));
        return { kind: 'List', values };
      }
      if (t.value === '{') {
        this.pos++;
        const fields: { name: string; value: ValueNode }[] = [];
        while (!this.skip('}')) {
          const name = this.name();
          this.expect(':');
          fields.push({ name, value: this.value(isConst) });
        }
        return { kind: 'Object', fields };
      }
      throw new GraphQLSyntaxError(`Syntax Error: Unexpected ${describe(t)}.`);
    }
    this.pos++;
    if (t.kind === 'int') return { kind: 'Int', value: t.value };
    if (t.kind === 'float') return { kind: 'Float', value: t.value };
    if (t.kind === 'string') return { kind: 'String', value: t.value };
    if (t.kind === 'name') {
      if (t.value === 'true' || t.value === 'false') return { kind: 'Boolean', value: t.value === 'true' };
      if (t.value === 'null') return { kind: 'Null' };
      return { kind: 'Enum', value: t.value };
    }
    throw new GraphQLSyntaxError(`Syntax Error: Unexpected ${describe(t)}.`);
  }
}

export function parseDocument(source: string): Document {
  return new Parser(tokenize(source)).document();
}
