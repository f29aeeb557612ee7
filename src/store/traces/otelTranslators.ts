/**
 * The semantic conventions OpenTelemetry GenAI instrumentations write (OpenInference, OpenLLMetry
 * /Traceloop, the OTel GenAI registry, and the frameworks MLflow 3.17 recognises), as a table:
 * which attribute names the span kind, the token counts, the inputs and outputs. MLflow's server
 * consults them in this order and the first one that answers wins, so the order is part of the
 * behaviour. Attribute values here are JSON text, as stored (see otelTranslate.ts).
 */
import { pyJsonDumps } from '../../domain/pyJson';
import { checked, firstValue, fromSpec, lookup, truthy, tryJson, type Attrs, type SpanEvent, type Spec, type Translator } from './otelTranslatorBase';

export { truthy, tryJson, type Attrs, type SpanEvent, type Translator };

const S = {
  LLM: 'LLM', CHAIN: 'CHAIN', AGENT: 'AGENT', TOOL: 'TOOL', CHAT_MODEL: 'CHAT_MODEL', RETRIEVER: 'RETRIEVER',
  EMBEDDING: 'EMBEDDING', RERANKER: 'RERANKER', MEMORY: 'MEMORY', UNKNOWN: 'UNKNOWN', WORKFLOW: 'WORKFLOW',
  TASK: 'TASK', GUARDRAIL: 'GUARDRAIL', EVALUATOR: 'EVALUATOR',
} as const;

const openInference = fromSpec({
  kindKey: 'openinference.span.kind',
  kinds: {
    TOOL: S.TOOL, CHAIN: S.CHAIN, LLM: S.LLM, RETRIEVER: S.RETRIEVER, EMBEDDING: S.EMBEDDING, AGENT: S.AGENT,
    RERANKER: S.RERANKER, UNKNOWN: S.UNKNOWN, GUARDRAIL: S.GUARDRAIL, EVALUATOR: S.EVALUATOR,
  },
  tokens: {
    input: 'llm.token_count.prompt', output: 'llm.token_count.completion', total: 'llm.token_count.total',
    cacheRead: 'llm.token_count.prompt_details.cache_read', cacheCreation: 'llm.token_count.prompt_details.cache_write',
  },
  inputKeys: ['input.value'],
  outputKeys: ['output.value'],
  modelKeys: ['llm.response.model_name', 'llm.model_name', 'llm.request.model_name', 'embedding.model_name'],
  providerKey: 'llm.provider',
});

const GENAI_SPEC: Spec = {
  kindKey: 'gen_ai.operation.name',
  kinds: {
    chat: S.CHAT_MODEL, create_agent: S.AGENT, embeddings: S.EMBEDDING, execute_tool: S.TOOL,
    generate_content: S.LLM, invoke_agent: S.AGENT, text_completion: S.LLM, response: S.LLM,
  },
  tokens: { input: 'gen_ai.usage.input_tokens', output: 'gen_ai.usage.output_tokens', cacheRead: 'gen_ai.usage.cache_read.input_tokens' },
  inputKeys: ['gen_ai.input.messages', 'gen_ai.tool.call.arguments'],
  outputKeys: ['gen_ai.output.messages', 'gen_ai.tool.call.result'],
  modelKeys: ['gen_ai.response.model', 'gen_ai.request.model'],
  providerKey: 'gen_ai.provider.name',
  toolKeys: ['gen_ai.tool.definitions'],
};

/** Cache writes under the current registry name, else the previous one. */
function genAiCacheCreation(a: Attrs): unknown {
  return a['gen_ai.usage.cache_write.input_tokens'] ?? a['gen_ai.usage.cache_creation.input_tokens'];
}

const genAi: Translator = { ...fromSpec(GENAI_SPEC), cacheCreationTokens: genAiCacheCreation };

/** The GenAI message events (gen_ai.user.message …) as a chat message list. */
function genAiEventMessages(events: SpanEvent[], wanted: (name: string) => string | undefined, roleFrom?: string): unknown {
  const messages: { role: unknown; content: unknown }[] = [];
  for (const e of events) {
    const role = wanted(e.name);
    if (role === undefined) continue;
    const attrs = e.attributes ?? {};
    const content = attrs.content;
    if (!truthy(content)) continue;
    messages.push({ role: roleFrom ? tryJson(attrs[roleFrom] ?? role) : role, content: tryJson(content) });
  }
  return messages.length ? pyJsonDumps(messages) : undefined;
}

const GEMINI_KINDS: Record<string, string> = { llm_call: S.LLM, tool_call: S.TOOL, agent_call: S.AGENT };
const isGeminiCli = (a: Attrs): boolean => tryJson(a['gen_ai.agent.name']) === 'gemini-cli';

const geminiCli: Translator = {
  ...genAi,
  spanType: (a) => (isGeminiCli(a) ? fromSpec({ ...GENAI_SPEC, kinds: GEMINI_KINDS }).spanType(a) : undefined),
  messageFormat: (a) => (isGeminiCli(a) ? 'gemini' : undefined),
  input: (a) => {
    if (!isGeminiCli(a)) return undefined;
    const v = genAi.input!(a);
    if (!truthy(v)) return undefined;
    let decoded = tryJson(v);
    if (decoded && typeof decoded === 'object' && !Array.isArray(decoded) && 'contents' in decoded) return v;
    if (a['gen_ai.operation.name'] === 'system_prompt' && Array.isArray(decoded)) {
      decoded = decoded.map((item: unknown) =>
        item && typeof item === 'object' && (item as Attrs).role === 'user' ? { ...(item as Attrs), role: 'system' } : item,
      );
    }
    return Array.isArray(decoded) || typeof decoded === 'string' ? pyJsonDumps({ contents: decoded }) : v;
  },
  output: (a) => {
    if (!isGeminiCli(a)) return undefined;
    const v = genAi.output!(a);
    if (!truthy(v)) return undefined;
    const decoded = tryJson(v);
    if (decoded && typeof decoded === 'object' && !Array.isArray(decoded) && 'candidates' in decoded) return v;
    if (Array.isArray(decoded)) {
      const parts = decoded.flatMap((item: unknown) => (item && typeof item === 'object' && Array.isArray((item as Attrs).parts) ? ((item as Attrs).parts as unknown[]) : []));
      if (parts.length) return pyJsonDumps({ candidates: [{ content: { role: 'model', parts } }] });
    }
    return v;
  },
};

const CLAUDE_KINDS: Record<string, string> = { 'claude_code.interaction': S.AGENT, 'claude_code.llm_request': S.LLM, 'claude_code.tool': S.TOOL };
const REDACTED = '<REDACTED>';

function claudeType(a: Attrs): string | undefined {
  const t = tryJson(a['span.type']);
  if (typeof t !== 'string') return undefined;
  const name = t.startsWith('claude_code.') ? t : `claude_code.${t}`;
  return Object.prototype.hasOwnProperty.call(CLAUDE_KINDS, name) ? name : undefined;
}

function claudeInt(a: Attrs, key: string): number | undefined {
  const v = tryJson(a[key]);
  if (v === undefined || v === null) return undefined;
  const n = typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : typeof v === 'boolean' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function claudeContent(a: Attrs, key: string): unknown {
  const v = checked(a, key);
  return v === undefined || v === null || tryJson(v) === REDACTED ? undefined : v;
}

const claudeCode: Translator = {
  spanType: (a) => {
    const t = claudeType(a);
    return t ? CLAUDE_KINDS[t] : undefined;
  },
  inputTokens: (a) => {
    if (claudeType(a) !== 'claude_code.llm_request') return undefined;
    const n = claudeInt(a, 'input_tokens');
    return n === undefined ? undefined : n + (claudeInt(a, 'cache_read_tokens') ?? 0) + (claudeInt(a, 'cache_creation_tokens') ?? 0);
  },
  outputTokens: (a) => (claudeType(a) === 'claude_code.llm_request' ? claudeInt(a, 'output_tokens') : undefined),
  cacheReadTokens: (a) => (claudeType(a) === 'claude_code.llm_request' ? claudeInt(a, 'cache_read_tokens') : undefined),
  cacheCreationTokens: (a) => (claudeType(a) === 'claude_code.llm_request' ? claudeInt(a, 'cache_creation_tokens') : undefined),
  input: (a) => {
    const t = claudeType(a);
    if (t === 'claude_code.interaction') return claudeContent(a, 'user_prompt') || claudeContent(a, 'new_context');
    if (t === 'claude_code.llm_request') return claudeContent(a, 'new_context');
    if (t === 'claude_code.tool') {
      const toolInput = claudeContent(a, 'tool_input');
      if (truthy(toolInput)) return toolInput;
      const details: Record<string, unknown> = {};
      for (const key of ['full_command', 'file_path', 'skill_name', 'subagent_type']) {
        const v = claudeContent(a, key);
        if (truthy(v)) details[key] = tryJson(v);
      }
      return Object.keys(details).length ? pyJsonDumps(details) : undefined;
    }
    return undefined;
  },
  output: (a) => {
    const t = claudeType(a);
    if (t === 'claude_code.llm_request') return claudeContent(a, 'response.model_output');
    if (t === 'claude_code.tool') return claudeContent(a, 'new_context');
    return undefined;
  },
  outputFromEvents: (events, a) => {
    if (claudeType(a) !== 'claude_code.tool') return undefined;
    for (const e of events) {
      if (e.name !== 'tool.output') continue;
      for (const key of ['output', 'content', 'diff']) {
        const v = tryJson((e.attributes ?? {})[key]);
        if (truthy(v) && v !== REDACTED) return pyJsonDumps(v);
      }
    }
    return undefined;
  },
};

const springAi: Translator = {
  ...fromSpec({ kindKey: 'gen_ai.operation.name', kinds: { chat: S.CHAT_MODEL, embeddings: S.EMBEDDING }, tokens: { input: 'gen_ai.usage.input_tokens', output: 'gen_ai.usage.output_tokens' } }),
  inputFromEvents: (events) => eventValue(events, 'gen_ai.content.prompt', 'gen_ai.prompt'),
  outputFromEvents: (events) => eventValue(events, 'gen_ai.content.completion', 'gen_ai.completion'),
};

function eventValue(events: SpanEvent[], name: string, key: string): unknown {
  for (const e of events) {
    if (e.name !== name) continue;
    const v = (e.attributes ?? {})[key];
    if (truthy(v)) return v;
  }
  return undefined;
}

const traceloop = fromSpec({
  kindKey: 'traceloop.span.kind',
  kinds: { workflow: S.WORKFLOW, task: S.TASK, agent: S.AGENT, tool: S.TOOL, unknown: S.UNKNOWN },
  tokens: { input: 'gen_ai.usage.prompt_tokens', output: 'gen_ai.usage.completion_tokens', total: 'llm.usage.total_tokens' },
  // Python's re.match anchors at the start only.
  inputKeys: ['traceloop.entity.input', /^gen_ai\.prompt\.\d+\.content/, /^gen_ai\.completion\.\d+\.tool_calls\.\d+\.arguments/],
  outputKeys: ['traceloop.entity.output', /^gen_ai\.completion\.\d+\.content/],
  providerKey: 'gen_ai.system',
});

const googleAdk = fromSpec({
  inputKeys: ['gcp.vertex.agent.llm_request', 'gcp.vertex.agent.tool_call_args'],
  outputKeys: ['gcp.vertex.agent.llm_response', 'gcp.vertex.agent.tool_response'],
});

/** json.loads up to three levels deep, as the Vercel translator unwraps doubly-encoded values. */
function loadDeep(v: unknown, depth = 2): unknown {
  if (typeof v !== 'string') return v;
  try {
    const r = JSON.parse(v) as unknown;
    return depth > 0 ? loadDeep(r, depth - 1) : r;
  } catch {
    return v;
  }
}

const vercelBase = fromSpec({
  kindKey: 'ai.operationId',
  kinds: {
    'ai.generateText': S.LLM, 'ai.generateText.doGenerate': S.LLM, 'ai.toolCall': S.TOOL, 'ai.streamText': S.LLM,
    'ai.streamText.doStream': S.LLM, 'ai.generateObject': S.LLM, 'ai.generateObject.doGenerate': S.LLM,
    'ai.streamObject': S.LLM, 'ai.streamObject.doStream': S.LLM, 'ai.embed': S.EMBEDDING, 'ai.embed.doEmbed': S.EMBEDDING,
    'ai.embedMany': S.EMBEDDING,
  },
  inputKeys: ['ai.prompt', 'ai.toolCall.args', 'ai.value', 'ai.values'],
  outputKeys: ['ai.response.text', 'ai.toolCall.result', 'ai.response.object', 'ai.embedding', 'ai.embeddings'],
});

const isVercelChat = (a: Attrs): boolean => {
  const kind = loadDeep(a['ai.operationId']);
  return kind === 'ai.generateText.doGenerate' || kind === 'ai.streamText.doStream';
};

function unpack(a: Attrs, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = loadDeep(v);
  return out;
}

/** Set by the Vercel translator while it reads a chat span's inputs (MLflow writes it there too). */
export const VERCEL_FORMAT_MARK = Symbol('vercel_ai');

const vercelAi: Translator = {
  ...vercelBase,
  input: (a) => {
    if (!isVercelChat(a)) return vercelBase.input(a);
    const inputs = unpack(a, 'ai.prompt.');
    if (Array.isArray(inputs.tools)) inputs.tools = inputs.tools.map((t) => loadDeep(t));
    (a as Record<string | symbol, unknown>)[VERCEL_FORMAT_MARK] = true;
    return Object.keys(inputs).length ? pyJsonDumps(inputs) : undefined;
  },
  output: (a) => {
    if (!isVercelChat(a)) return vercelBase.output(a);
    const outputs = unpack(a, 'ai.response.');
    return Object.keys(outputs).length ? pyJsonDumps(outputs) : undefined;
  },
};

const VOLT_KINDS: Record<string, string> = { agent: S.AGENT, llm: S.LLM, tool: S.TOOL, memory: S.MEMORY };
const firstRaw = (a: Attrs, keys: string[]): unknown => {
  for (const k of keys) if (truthy(a[k])) return a[k];
  return undefined;
};

const voltAgent: Translator = {
  ...fromSpec({ inputKeys: ['agent.messages', 'llm.messages', 'input'], outputKeys: ['output'] }),
  spanType: (a) => {
    for (const key of ['span.type', 'entity.type']) {
      const kind = tryJson(a[key]);
      if (truthy(kind)) {
        const t = lookup(VOLT_KINDS, kind);
        if (t) return t;
      }
    }
    return undefined;
  },
  messageFormat: (a) => ('voltagent.operation_id' in a || 'voltagent.conversation_id' in a ? 'voltagent' : undefined),
  inputTokens: (a) => firstRaw(a, ['usage.prompt_tokens', 'llm.usage.prompt_tokens']),
  outputTokens: (a) => firstRaw(a, ['usage.completion_tokens', 'llm.usage.completion_tokens']),
  totalTokens: (a) => firstRaw(a, ['usage.total_tokens', 'llm.usage.total_tokens']),
};

const LIVEKIT_DETECT = ['lk.agent_name', 'lk.room_name', 'lk.job_id', 'lk.participant_identity'];

const liveKit: Translator = {
  ...genAi,
  input: (a) => firstValue(a, ['lk.user_input', 'lk.user_transcript', 'lk.chat_ctx', 'lk.input_text']),
  output: (a) => firstValue(a, ['lk.response.text', 'lk.response.function_calls']),
  spanType: (a) => {
    if ('gen_ai.request.model' in a) return S.LLM;
    const op = a['gen_ai.operation.name'];
    if (truthy(op)) {
      const t = lookup(GENAI_SPEC.kinds!, String(tryJson(op)).toLowerCase());
      if (t) return t;
    }
    for (const key of Object.keys(a)) {
      if (key === 'lk.retry_count') return S.LLM;
      if (key.startsWith('lk.function_tool')) return S.TOOL;
      if (key === 'lk.agent_name' || key === 'lk.instructions' || key === 'lk.generation_id') return S.AGENT;
      if (key.startsWith('lk.tts') || key === 'lk.input_text') return S.UNKNOWN;
      if (key === 'lk.user_transcript' || key === 'lk.transcript_confidence' || key === 'lk.transcription_delay') return S.UNKNOWN;
    }
    return undefined;
  },
  messageFormat: (a) => (LIVEKIT_DETECT.some((k) => k in a) || Object.keys(a).some((k) => k.startsWith('lk.')) ? 'livekit' : undefined),
  inputFromEvents: (events) =>
    genAiEventMessages(events, (n) => ({ 'gen_ai.system.message': 'system', 'gen_ai.user.message': 'user', 'gen_ai.assistant.message': 'assistant' })[n]),
  outputFromEvents: (events) => genAiEventMessages(events, (n) => (n === 'gen_ai.choice' ? 'assistant' : undefined), 'role'),
};

const laminar: Translator = {
  ...fromSpec({
    kindKey: 'lmnr.span.type',
    kinds: {
      LLM: S.LLM, TOOL: S.TOOL, DEFAULT: S.CHAIN, PIPELINE: S.CHAIN, EXECUTOR: S.AGENT, EVALUATOR: S.EVALUATOR,
      HUMAN_EVALUATOR: S.EVALUATOR, EVALUATION: S.EVALUATOR, CACHED: S.LLM,
    },
    inputKeys: ['lmnr.span.input'],
    outputKeys: ['lmnr.span.output'],
    tokens: { input: 'gen_ai.usage.input_tokens', output: 'gen_ai.usage.output_tokens' },
    modelKeys: ['gen_ai.response.model', 'gen_ai.request.model'],
    providerKey: 'gen_ai.system',
  }),
  messageFormat: (a) => ('lmnr.span.type' in a ? 'openai' : undefined),
};

const langfuse = fromSpec({
  kindKey: 'langfuse.observation.type',
  kinds: {
    generation: S.LLM, embedding: S.EMBEDDING, tool: S.TOOL, retriever: S.RETRIEVER, agent: S.AGENT, chain: S.CHAIN,
    evaluator: S.EVALUATOR, guardrail: S.GUARDRAIL, span: S.UNKNOWN,
  },
  inputKeys: ['langfuse.observation.input'],
  outputKeys: ['langfuse.observation.output'],
});

/** MLflow 3.17.2's order (mlflow/tracing/otel/translation/__init__.py). */
export const TRANSLATORS: readonly Translator[] = [
  openInference, geminiCli, claudeCode, genAi, springAi, traceloop, googleAdk, vercelAi, voltAgent, liveKit, laminar, langfuse,
];

/** The ones also read from span events, in MLflow's order. */
export const EVENT_TRANSLATORS: readonly Translator[] = [springAi, liveKit, claudeCode];
