/** Content types for artifact downloads, by extension (as Python's mimetypes guesses them). */
const TYPES: Record<string, string> = {
  txt: 'text/plain',
  log: 'text/plain',
  md: 'text/markdown',
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  json: 'application/json',
  yaml: 'application/yaml',
  yml: 'application/yaml',
  html: 'text/html',
  htm: 'text/html',
  xml: 'application/xml',
  py: 'text/x-python',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  webp: 'image/webp',
  pdf: 'application/pdf',
  parquet: 'application/octet-stream',
  pkl: 'application/octet-stream',
};

export function contentTypeFor(file: string): string {
  const base = file.split('/').pop() ?? '';
  if (base === 'MLmodel') return 'text/plain';
  const dot = base.lastIndexOf('.');
  return (dot >= 0 && TYPES[base.slice(dot + 1).toLowerCase()]) || 'application/octet-stream';
}
