/**
 * The team MLflow servers the explorer shows (`runlens.remoteServers`). The setting holds only
 * what is safe to share in a workspace's settings.json (name, URL, auth kind, username); the
 * password or token lives in VS Code's SecretStorage under `secretKey(name)`. vscode-free, so
 * the parsing and the header are unit-tested.
 */

import { untrustedCertificateCode, type TlsOptions } from '../../client/tlsFetch';

/** `headers`: custom request headers (a gateway's API key …), kept as the secret. */
export type RemoteAuthKind = 'none' | 'basic' | 'bearer' | 'headers';

export interface RemoteServerConfig {
  name: string;
  url: string;
  auth: RemoteAuthKind;
  /** Basic auth only. */
  username?: string;
  /** https only: a PEM file of the certificate authorities to trust instead of the system's. */
  caFile?: string;
  /** https only: do not verify the server's certificate (a self-signed test server). */
  insecure?: boolean;
}

const KINDS: readonly RemoteAuthKind[] = ['none', 'basic', 'bearer', 'headers'];

/** Why a URL cannot name a team server, or undefined when it can. */
export function invalidServerUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'Give the http(s) URL of an MLflow server, e.g. https://mlflow.example.com';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return 'The URL must start with http:// or https://';
  // A URL carrying credentials would put the secret into settings.json.
  if (parsed.username || parsed.password) return 'Leave credentials out of the URL; choose basic or bearer auth instead';
  return undefined;
}

/** The URL as requests are built from it: no trailing slash. */
export function normalizeServerUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/** The well-formed entries of the setting; a malformed one is skipped (and named in `skipped`). */
export function parseRemoteServers(value: unknown): { servers: RemoteServerConfig[]; skipped: string[] } {
  const servers: RemoteServerConfig[] = [];
  const skipped: string[] = [];
  const names = new Set<string>();
  for (const entry of Array.isArray(value) ? value : []) {
    const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
    const name = typeof e.name === 'string' ? e.name.trim() : '';
    const url = typeof e.url === 'string' ? normalizeServerUrl(e.url) : '';
    const auth = (typeof e.auth === 'string' && (KINDS as readonly string[]).includes(e.auth) ? e.auth : e.auth === undefined ? 'none' : undefined) as RemoteAuthKind | undefined;
    const username = typeof e.username === 'string' && e.username !== '' ? e.username : undefined;
    const caFile = typeof e.caFile === 'string' && e.caFile.trim() ? e.caFile.trim() : undefined;
    const insecure = e.insecure === true;
    const tlsWhy = (caFile || insecure) && !url.startsWith('https://') ? 'caFile and insecure apply to https:// servers only' : e.insecure !== undefined && typeof e.insecure !== 'boolean' ? 'insecure must be true or false' : undefined;
    const why = !name ? 'no name' : names.has(name) ? `the name '${name}' is used twice` : invalidServerUrl(url) ?? (!auth ? `unknown auth '${String(e.auth)}'` : auth === 'basic' && !username ? 'basic auth needs a username' : tlsWhy);
    if (why) {
      skipped.push(`${name || JSON.stringify(entry)}: ${why}`);
      continue;
    }
    names.add(name);
    servers.push({ name, url, auth: auth!, ...(auth === 'basic' ? { username } : {}), ...(caFile ? { caFile } : {}), ...(insecure ? { insecure } : {}) });
  }
  return { servers, skipped };
}

/** Where a server's password or token is kept in SecretStorage. */
export function secretKey(name: string): string {
  return `runlens.remoteServer.${name}`;
}

/**
 * Custom headers as typed: `Name: value` pairs separated by `;` or new lines. Returns the reason
 * when the text is not that (no name, no colon, a name HTTP does not allow).
 */
export function parseHeaderLines(text: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const part of text.split(/[;\n]/)) {
    if (!part.trim()) continue;
    const i = part.indexOf(':');
    const name = i > 0 ? part.slice(0, i).trim() : '';
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) return `'${part.trim()}' is not a 'Name: value' header`;
    out[name] = part.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : 'Give at least one header, e.g. X-Api-Key: …';
}

/** The request headers for a server, given its secret (the password, token, or header lines). */
export function authHeaders(server: RemoteServerConfig, secret: string | undefined): Record<string, string> {
  if (server.auth === 'none' || secret === undefined) return {};
  if (server.auth === 'bearer') return { Authorization: `Bearer ${secret}` };
  if (server.auth === 'headers') {
    const h = parseHeaderLines(secret);
    return typeof h === 'string' ? {} : h;
  }
  return { Authorization: `Basic ${Buffer.from(`${server.username ?? ''}:${secret}`, 'utf8').toString('base64')}` };
}

/** The variables the MLflow client (and `runlens publish`) read credentials from. */
export function credentialEnv(server: RemoteServerConfig, secret: string | undefined): Record<string, string> {
  if (server.auth === 'basic' && secret !== undefined) return { MLFLOW_TRACKING_USERNAME: server.username ?? '', MLFLOW_TRACKING_PASSWORD: secret };
  if (server.auth === 'bearer' && secret !== undefined) return { MLFLOW_TRACKING_TOKEN: secret };
  if (server.auth === 'headers' && secret !== undefined) return { RUNLENS_TRACKING_HEADERS: JSON.stringify(authHeaders(server, secret)) };
  return {};
}

/** A server's TLS trust for the REST client. */
export function tlsOptionsOf(server: RemoteServerConfig): TlsOptions {
  return { ...(server.caFile ? { caFile: server.caFile } : {}), ...(server.insecure ? { insecure: true } : {}) };
}

/** The same trust in the MLflow client's variables (what `runlens publish` reads too). */
/**
 * What to tell the user when connecting to `server` failed on its TLS certificate (a Node TLS
 * code anywhere in the error's causes), with what to set; undefined for any other failure.
 */
export function untrustedCertificateMessage(server: RemoteServerConfig, err: unknown): string | undefined {
  const code = untrustedCertificateCode(err);
  if (code === undefined) return undefined;
  const cause = (err as { cause?: unknown }).cause;
  const why = cause instanceof Error && cause.message && cause.message !== code ? `${code}: ${cause.message}` : code;
  return `${server.name} (${server.url}): its TLS certificate is not trusted here (${why}). Give the CA file that signed it as "caFile" in runlens.remoteServers, or, for a test server only, "insecure": true.`;
}

export function tlsEnv(server: RemoteServerConfig): Record<string, string> {
  return { ...(server.caFile ? { MLFLOW_TRACKING_SERVER_CERT_PATH: server.caFile } : {}), ...(server.insecure ? { MLFLOW_TRACKING_INSECURE_TLS: 'true' } : {}) };
}

/** Summary and conflict lines of `runlens publish`'s stdout (publishTypes.ts formats them). */
export interface PublishOutcome {
  created: number;
  updated: number;
  unchanged: number;
  conflicts: string[];
  summary: string;
}

export function parsePublishOutput(stdout: string): PublishOutcome | undefined {
  const lines = stdout.split('\n');
  const summary = lines.find((l) => l.startsWith('published '));
  const m = summary && /\((\d+) new, (\d+) updated\)/.exec(summary);
  if (!summary || !m) return undefined;
  const unchanged = /unchanged (\d+) runs/.exec(stdout);
  return {
    created: Number(m[1]),
    updated: Number(m[2]),
    unchanged: unchanged ? Number(unchanged[1]) : 0,
    conflicts: lines.filter((l) => l.startsWith('conflict: ')).map((l) => l.slice('conflict: '.length)),
    summary,
  };
}

/** A progress line of `runlens publish`'s stderr: runs done and total. */
export function parsePublishProgress(line: string): { done: number; total: number } | undefined {
  const m = /^\s*(\d+)\/(\d+) runs,/.exec(line);
  return m ? { done: Number(m[1]), total: Number(m[2]) } : undefined;
}
