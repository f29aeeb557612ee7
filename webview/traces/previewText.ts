/**
 * Turning a trace's request/response previews (JSON text, possibly truncated) into the words a
 * person typed and read: the last user message of a chat request, the assistant's reply, the one
 * string field of a small input object, else the text as it is.
 */
function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((p) => (typeof p === 'string' ? p : (p as { text?: unknown })?.text)).filter((t): t is string => typeof t === 'string');
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

function lastMessage(messages: unknown, role?: string): string | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i] as { role?: unknown; content?: unknown } | undefined;
    if (m && (!role || m.role === role)) {
      const t = contentText(m.content);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

function soleString(o: Record<string, unknown>): string | undefined {
  const strings = Object.values(o).filter((v): v is string => typeof v === 'string');
  return Object.keys(o).length === 1 && strings.length === 1 ? strings[0] : undefined;
}

function stringField(o: Record<string, unknown>, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' ? v : undefined;
}

/** A preview as text: a JSON string as itself, an object through `fromObject`, anything else verbatim. */
function previewText(preview: string | undefined, fromObject: (o: Record<string, unknown>) => string | undefined): string {
  if (!preview) return '';
  const v = parse(preview);
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && !Array.isArray(v)) return fromObject(v as Record<string, unknown>) ?? preview;
  return preview;
}

export function requestText(preview: string | undefined): string {
  return previewText(preview, (o) => lastMessage(o.messages, 'user') ?? soleString(o) ?? stringField(o, 'query') ?? stringField(o, 'question'));
}

export function responseText(preview: string | undefined): string {
  return previewText(preview, (o) => {
    const choices = o.choices as { message?: { content?: unknown } }[] | undefined;
    if (Array.isArray(choices)) return contentText(choices[0]?.message?.content);
    return lastMessage(o.messages, 'assistant') ?? soleString(o) ?? stringField(o, 'content');
  });
}
