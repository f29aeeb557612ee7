/**
 * Text with its Python traceback frames as links: in VS Code a click asks the host to open the
 * file at the line (it does when the file is in the workspace); in a browser the frame is a
 * vscode:// link, which an installed VS Code opens.
 */
import { splitTraceback, vscodeFileUrl } from '../src/ui/tracebackLinks';
import type { Transport } from './transport';
import { el } from './dom';

/** A `<pre>` of `text` with each `File "…", line N` frame linked. */
export function tracebackPre(text: string, transport: Transport, cls: string): HTMLPreElement {
  const pre = el('pre', { class: cls });
  for (const part of splitTraceback(text)) {
    if (!('path' in part)) {
      pre.append(part.text);
      continue;
    }
    const a = el('a', { class: 'source-link', href: transport.inVsCode ? '#' : vscodeFileUrl(part.path, part.line), 'data-path': part.path, 'data-line': String(part.line), title: `Open ${part.path} at line ${part.line}` }, part.text);
    if (transport.inVsCode) {
      a.addEventListener('click', (e) => {
        e.preventDefault();
        transport.openSource(part.path, part.line);
      });
    }
    pre.append(a);
  }
  return pre;
}
