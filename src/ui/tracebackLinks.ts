/**
 * Finds the `File "/path/x.py", line 12` frames of a Python traceback in text (span exception
 * stack traces, terminal output), so views can link them to the editor. Browser-safe.
 */

export type TracebackPart = { text: string } | { text: string; path: string; line: number };

// The frame line CPython prints (traceback.py: '  File "{}", line {}, in {}'); `<stdin>`-like
// pseudo files (in angle brackets) are not files.
const FRAME = /File "([^"<>\n][^"\n]*)", line (\d+)/g;

/** Splits `text` into plain runs and frame references, in order; joined back, they are the text. */
export function splitTraceback(text: string): TracebackPart[] {
  const parts: TracebackPart[] = [];
  let last = 0;
  for (const m of text.matchAll(FRAME)) {
    const at = m.index ?? 0;
    if (at > last) parts.push({ text: text.slice(last, at) });
    parts.push({ text: m[0], path: m[1]!, line: Number(m[2]) });
    last = at + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  return parts;
}

/** The `vscode://file/…:line` URL a browser can hand to an installed VS Code. */
export function vscodeFileUrl(path: string, line: number): string {
  const p = path.replace(/\\/g, '/');
  return `vscode://file${p.startsWith('/') ? '' : '/'}${encodeURI(p)}:${line}`;
}
