/**
 * Artifact download headers as `mlflow server` sends them. The type follows MLflow's
 * `_guess_mime_type`: a fixed list of text extensions (and the extension-less `MLmodel` /
 * `mlproject`, compared case-sensitively) is `text/plain`; anything else is what Python's
 * `mimetypes.guess_type` says — its built-in table overlaid by the system's mime.types files,
 * read in Python's order — or `application/octet-stream`. Reading the same system files keeps
 * the answer identical to an `mlflow server` on the same machine.
 */
import * as fs from 'node:fs';
import { PYTHON_DEFAULT_TYPES } from './pythonMimeTable';

/** MLflow's `get_text_extensions()` (case-sensitive, as MLflow compares them). */
const TEXT_EXTENSIONS = new Set([
  'txt', 'log', 'err', 'cfg', 'conf', 'cnf', 'cf', 'ini', 'properties', 'prop', 'hocon', 'toml', 'yaml', 'yml', 'xml', 'json',
  'js', 'py', 'py3', 'csv', 'tsv', 'md', 'rst', 'ipynb', 'MLmodel', 'mlproject',
]);

/** Python's `mimetypes.knownfiles` (POSIX). */
const SYSTEM_MIME_FILES = [
  '/etc/mime.types',
  '/etc/httpd/mime.types',
  '/etc/httpd/conf/mime.types',
  '/etc/apache/mime.types',
  '/etc/apache2/mime.types',
  '/usr/local/etc/httpd/conf/mime.types',
  '/usr/local/lib/netscape/mime.types',
  '/usr/local/etc/mime.types',
];

/** Compression suffixes (case-sensitive) and the aliases Python expands first. */
const ENCODINGS = new Set(['.gz', '.Z', '.bz2', '.xz', '.br']);
const SUFFIX_ALIASES: Record<string, string> = { '.svgz': '.svg.gz', '.tgz': '.tar.gz', '.taz': '.tar.gz', '.tz': '.tar.gz', '.tbz2': '.tar.bz2', '.txz': '.tar.xz' };

let table: Map<string, string> | undefined;

/** `.ext` → type: the built-in table, then each system file in turn (later entries win). */
function types(): Map<string, string> {
  if (table) return table;
  table = new Map(Object.entries(PYTHON_DEFAULT_TYPES).map(([ext, type]) => [`.${ext}`, type]));
  for (const file of SYSTEM_MIME_FILES) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const words = line.split(/\s+/).filter(Boolean);
      const comment = words.findIndex((w) => w.startsWith('#'));
      if (comment >= 0) words.length = comment;
      const [type, ...exts] = words;
      for (const ext of exts) table.set(`.${ext}`, type!);
    }
  }
  return table;
}

/** Python's `posixpath.splitext`: a leading dot (`.bashrc`) is not an extension. */
function splitext(name: string): [string, string] {
  const slash = name.lastIndexOf('/');
  const dot = name.lastIndexOf('.');
  if (dot <= slash + 1) return [name, ''];
  // Leading dots of the last segment don't start an extension.
  const base = name.slice(slash + 1, dot);
  if (/^\.*$/.test(base)) return [name, ''];
  return [name.slice(0, dot), name.slice(dot)];
}

/** Python's `mimetypes.guess_type(name)[0]` (strict), without the `data:` URL case. */
function guessType(name: string): string | undefined {
  let [base, ext] = splitext(name);
  while (SUFFIX_ALIASES[ext.toLowerCase()] !== undefined) [base, ext] = splitext(base + SUFFIX_ALIASES[ext.toLowerCase()]);
  if (ENCODINGS.has(ext)) [base, ext] = splitext(base);
  return types().get(ext.toLowerCase());
}

/** The Content-Type `mlflow server` sends for an artifact file (by its base name). */
export function contentTypeFor(file: string): string {
  const name = file.split('/').pop() ?? '';
  const ext = splitext(name)[1].replace(/\./g, '');
  if (TEXT_EXTENSIONS.has(ext === '' ? name : ext)) return 'text/plain';
  return guessType(name) ?? 'application/octet-stream';
}

/** werkzeug's token characters: a filename made only of these goes unquoted. */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z|~]+$/;

function quoteHeaderValue(value: string): string {
  if (value === '') return '""';
  if (TOKEN.test(value)) return value;
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** RFC 5987 attr-chars besides alphanumerics, which Python's `quote` leaves alone here. */
function percentEncode(value: string): string {
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) => {
      const c = String.fromCharCode(b);
      return /[A-Za-z0-9!#$&+\-.^_`|~]/.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
}

/**
 * `Content-Disposition: attachment` for a file name, as MLflow builds it: a token or quoted
 * `filename=`, and for non-ASCII names an ASCII fallback (accents stripped, others dropped) plus
 * `filename*=UTF-8''…`.
 */
export function contentDispositionFor(filename: string): string {
  // CR/LF can't go into a header; no artifact name written through this server has them.
  const name = filename.replace(/[\r\n]/g, '_');
  if (/^[\x00-\x7f]*$/.test(name)) return `attachment; filename=${quoteHeaderValue(name)}`;
  const ascii = name.normalize('NFKD').replace(/[^\x00-\x7f]/g, '') || 'download';
  return `attachment; filename=${quoteHeaderValue(ascii)}; filename*=UTF-8''${percentEncode(name)}`;
}
