/**
 * What each search's filter language accepts, as data: the attributes with their value type and
 * comparators, the key/value prefixes (metrics., params., tags., …) with theirs, and what
 * order_by takes. The checker, the completions of the editor and the views read it; a unit test
 * holds it to what the server's search compilers accept, so the two cannot drift apart.
 */
import type { Comparator } from './filterAst';

export type SearchKind = 'runs' | 'experiments' | 'registeredModels' | 'modelVersions' | 'loggedModels' | 'traces';

export const NUMERIC_COMPARATORS: Comparator[] = ['=', '!=', '<', '<=', '>', '>='];
export const STRING_COMPARATORS: Comparator[] = ['=', '!=', 'LIKE', 'ILIKE'];
export const STRING_LIST_COMPARATORS: Comparator[] = [...STRING_COMPARATORS, 'IN', 'NOT IN'];

/** `any`: strings and numbers (assessment values); `string` also takes IN lists where the comparators have IN. */
export type ValueType = 'number' | 'string' | 'any';

export interface AttributeWord {
  type: ValueType;
  comparators: Comparator[];
  /** Other spellings of the same attribute (`run name` for `run_name`): accepted, not offered. */
  aliases?: string[];
  doc: string;
}

/** Where the language server finds the keys that exist under a prefix. */
export type KeySource = 'metrics' | 'params' | 'tags';

export interface EntityWord {
  /** Accepted spellings; the first is the one completion offers. */
  names: string[];
  type: ValueType;
  comparators: Comparator[];
  /** Keys are a fixed set (datasets.name, span.type), not whatever was logged. */
  fixedKeys?: string[];
  /** Keys that start with one of these are also taken (span.attributes.<key>). */
  keyPrefixes?: string[];
  /** Keys (or `prefix.` key prefixes) with their own value type or comparators. */
  keyRules?: Record<string, { type?: ValueType; comparators?: Comparator[] }>;
  keySource?: KeySource;
  /** `IS NULL` / `IS NOT NULL` work on these keys. */
  nullChecks?: boolean;
  orderable: boolean;
  doc: string;
}

export interface Vocabulary {
  kind: SearchKind;
  /** What MLflow calls the searched things, for messages. */
  what: string;
  attributes: Record<string, AttributeWord>;
  /** Prefixes that name an attribute explicitly (`attributes.status`). */
  attributePrefixes: string[];
  entities: EntityWord[];
  /** Attribute keys order_by takes (entities say for themselves). */
  orderable: string[];
}

const num = (doc: string, aliases?: string[]): AttributeWord => ({ type: 'number', comparators: NUMERIC_COMPARATORS, doc, ...(aliases ? { aliases } : {}) });
const str = (doc: string, comparators = STRING_COMPARATORS, aliases?: string[]): AttributeWord => ({ type: 'string', comparators, doc, ...(aliases ? { aliases } : {}) });
const tags = (what: string): EntityWord => ({ names: ['tags', 'tag'], type: 'string', comparators: STRING_COMPARATORS, keySource: 'tags', orderable: false, doc: `a tag of the ${what}` });

const RUNS: Vocabulary = {
  kind: 'runs',
  what: 'runs',
  attributes: {
    run_id: str('the run id', STRING_LIST_COMPARATORS),
    run_name: str("the run's name", STRING_COMPARATORS, ['run name', 'Run name', 'Run Name']),
    user_id: str('who started the run'),
    status: str('RUNNING, SCHEDULED, FINISHED, FAILED or KILLED'),
    artifact_uri: str("the run's artifact location"),
    start_time: num('start time, ms since the epoch', ['created', 'Created']),
    end_time: num('end time, ms since the epoch'),
  },
  attributePrefixes: ['attributes', 'attribute', 'attr', 'run'],
  entities: [
    { names: ['metrics', 'metric'], type: 'number', comparators: NUMERIC_COMPARATORS, keySource: 'metrics', orderable: true, doc: "a metric's latest value" },
    { names: ['params', 'param', 'parameters', 'parameter'], type: 'string', comparators: STRING_COMPARATORS, keySource: 'params', nullChecks: true, orderable: true, doc: 'a parameter (always a string)' },
    { names: ['tags', 'tag'], type: 'string', comparators: STRING_COMPARATORS, keySource: 'tags', nullChecks: true, orderable: true, doc: 'a tag of the run' },
    { names: ['datasets', 'dataset'], type: 'string', comparators: STRING_LIST_COMPARATORS, fixedKeys: ['name', 'digest', 'context'], orderable: false, doc: 'a dataset the run used' },
  ],
  orderable: ['run_id', 'run_name', 'user_id', 'status', 'artifact_uri', 'start_time', 'end_time', 'experiment_id'],
};

const EXPERIMENTS: Vocabulary = {
  kind: 'experiments',
  what: 'experiments',
  attributes: { name: str("the experiment's name"), creation_time: num('created, ms since the epoch'), last_update_time: num('last updated, ms since the epoch') },
  attributePrefixes: ['attributes', 'attribute', 'attr'],
  entities: [tags('experiment')],
  orderable: ['name', 'experiment_id', 'creation_time', 'last_update_time'],
};

const REGISTERED_MODELS: Vocabulary = {
  kind: 'registeredModels',
  what: 'registered models',
  attributes: { name: str("the model's name") },
  attributePrefixes: ['attributes', 'attribute', 'attr'],
  entities: [tags('registered model')],
  orderable: ['name', 'timestamp', 'last_updated_timestamp', 'creation_timestamp'],
};

const MODEL_VERSIONS: Vocabulary = {
  kind: 'modelVersions',
  what: 'model versions',
  attributes: {
    name: str("the registered model's name", [...STRING_COMPARATORS, 'IN']),
    run_id: str('the run that produced the version', ['=', '!=', 'IN', 'NOT IN']),
    source_path: str("the version's source URI"),
    version_number: num('the version number'),
  },
  attributePrefixes: ['attributes', 'attribute', 'attr'],
  entities: [tags('model version')],
  orderable: ['name', 'version_number', 'creation_timestamp', 'last_updated_timestamp', 'timestamp'],
};

const LOGGED_MODELS: Vocabulary = {
  kind: 'loggedModels',
  what: 'logged models',
  attributes: {
    name: str("the model's name", STRING_LIST_COMPARATORS),
    model_id: str('the model id', STRING_LIST_COMPARATORS),
    model_type: str('the model type', STRING_LIST_COMPARATORS),
    status: str('PENDING, READY or FAILED', STRING_LIST_COMPARATORS),
    source_run_id: str('the run that logged it', STRING_LIST_COMPARATORS),
    creation_time: num('created, ms since the epoch', ['creation_timestamp', 'creation_timestamp_ms']),
    last_updated_time: num('last updated, ms since the epoch', ['last_updated_timestamp', 'last_updated_timestamp_ms']),
  },
  attributePrefixes: ['attributes', 'attribute', 'attr'],
  entities: [
    tags('logged model'),
    { names: ['params', 'param', 'parameters'], type: 'string', comparators: STRING_COMPARATORS, keySource: 'params', orderable: false, doc: "a parameter of the model" },
    { names: ['metrics', 'metric'], type: 'number', comparators: NUMERIC_COMPARATORS, keySource: 'metrics', orderable: true, doc: "a metric linked to the model" },
  ],
  orderable: ['name', 'model_id', 'model_type', 'status', 'source_run_id', 'creation_time', 'last_updated_time'],
};

const TRACES: Vocabulary = {
  kind: 'traces',
  what: 'traces',
  attributes: {
    trace_id: str('the trace id', STRING_LIST_COMPARATORS, ['request_id']),
    client_request_id: str("the client's request id", STRING_LIST_COMPARATORS),
    timestamp_ms: num('request time, ms since the epoch', ['timestamp', 'request_time']),
    execution_time_ms: num('duration in ms', ['execution_time', 'execution_duration']),
    end_time_ms: num('end time, ms since the epoch', ['end_time']),
    status: str('OK, ERROR or IN_PROGRESS', STRING_LIST_COMPARATORS, ['state']),
    name: str("the trace's name", STRING_LIST_COMPARATORS),
    run_id: str('the run the trace belongs to', STRING_LIST_COMPARATORS),
    text: str('any span text (LIKE / ILIKE)', ['LIKE', 'ILIKE']),
    request_preview: str('the request preview'),
    response_preview: str('the response preview'),
    session_id: str('the session', STRING_LIST_COMPARATORS),
    user_id: str('the user', STRING_LIST_COMPARATORS),
    total_tokens: num('tokens used'),
  },
  attributePrefixes: ['attributes', 'attribute', 'attr', 'trace'],
  entities: [
    { names: ['tag', 'tags'], type: 'string', comparators: STRING_LIST_COMPARATORS, orderable: false, doc: 'a tag of the trace' },
    { names: ['metadata', 'request_metadata'], type: 'string', comparators: STRING_LIST_COMPARATORS, orderable: false, doc: "a trace's metadata entry" },
    { names: ['span'], type: 'string', comparators: STRING_LIST_COMPARATORS, fixedKeys: ['name', 'type', 'status', 'span_id', 'content'], keyPrefixes: ['attributes.'], keyRules: { content: { comparators: ['LIKE', 'ILIKE'] }, 'attributes.': { type: 'any' } }, orderable: false, doc: 'some span of the trace' },
    { names: ['feedback'], type: 'any', comparators: STRING_LIST_COMPARATORS, orderable: false, doc: 'a feedback assessment' },
    { names: ['expectation'], type: 'any', comparators: STRING_LIST_COMPARATORS, orderable: false, doc: 'an expectation assessment' },
  ],
  orderable: ['timestamp_ms', 'execution_time_ms', 'end_time_ms', 'status', 'trace_id', 'name', 'run_id', 'session_id', 'total_tokens', 'experiment_id'],
};

export const VOCABULARIES: Record<SearchKind, Vocabulary> = {
  runs: RUNS,
  experiments: EXPERIMENTS,
  registeredModels: REGISTERED_MODELS,
  modelVersions: MODEL_VERSIONS,
  loggedModels: LOGGED_MODELS,
  traces: TRACES,
};

/** The attribute a key names, by its name or one of its aliases. */
export function attributeWord(vocab: Vocabulary, key: string): { name: string; word: AttributeWord } | undefined {
  const direct = vocab.attributes[key];
  if (direct) return { name: key, word: direct };
  for (const [name, word] of Object.entries(vocab.attributes)) if (word.aliases?.includes(key)) return { name, word };
  return undefined;
}

/** The key/value prefix an entity spelling names. */
export function entityWord(vocab: Vocabulary, entity: string): EntityWord | undefined {
  return vocab.entities.find((e) => e.names.includes(entity));
}

/** The value type and comparators of one key under a prefix (its key rule, else the prefix's). */
export function keyRule(e: EntityWord, key: string): { type: ValueType; comparators: Comparator[] } {
  const rule = e.keyRules?.[key] ?? Object.entries(e.keyRules ?? {}).find(([k]) => k.endsWith('.') && key.startsWith(k))?.[1];
  return { type: rule?.type ?? e.type, comparators: rule?.comparators ?? e.comparators };
}

/** Every prefix a filter of this kind may start an identifier with, canonical spellings first. */
export function prefixesOf(vocab: Vocabulary): string[] {
  return [...vocab.entities.map((e) => e.names[0]!), vocab.attributePrefixes[0]!];
}
