/**
 * Cross-site request refusal. Any web page the user visits can send requests to a loopback
 * server: forms and `fetch(…, {mode: 'no-cors'})` reach it with the CORS-safelisted content types
 * (text/plain, form-urlencoded, multipart) and no preflight. The server answers CORS preflights
 * only for explicitly allowed origins, so no other page can send JSON, PUT, PATCH or DELETE; what
 * is left is refused here:
 *
 * - a request whose `Origin` is neither the server's own (`http://<Host>`, or `https://<Host>`
 *   behind a TLS proxy) nor an allowed one
 *   (403; `Origin: null` — file:// and sandboxed pages — is foreign), whatever the method;
 * - without `Origin`, a state-changing request that the browser marks `Sec-Fetch-Site: cross-site`
 *   or `same-site` (another port of the same host is same-site), and a cross-site GET that is not
 *   a navigation (`<img>`, `<script>`, no-cors fetch), so links from elsewhere still open;
 * - JSON routes: POST/PUT/PATCH without `Content-Type: application/json`, whatever the body length
 *   (400), and a DELETE whose body is not JSON;
 * - raw-body POSTs (OTLP): the form content types (400). Raw-body PUTs (artifact uploads) take
 *   any type: the mlflow client labels text files text/plain, urllib and `curl --data-binary`
 *   label uploads form-urlencoded, and a PUT can't come from a form or a no-cors fetch.
 *
 * Clients outside a browser (the mlflow client, Node's fetch in the extension host) send neither
 * `Origin` nor `Sec-Fetch-Site` and are unaffected. Origins allowed explicitly get CORS (preflights
 * answered, `Access-Control-Allow-Origin` on answers), so a page there can call the API with fetch.
 */
import type * as http from 'node:http';
import { MlflowError } from '../domain/errors';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** What a `<form>` or a no-cors fetch can send without a preflight. */
const FORM_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

function header(headers: http.IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `application/json; charset=utf-8` → `application/json`; undefined when absent or empty. */
export function mediaType(contentType: string | undefined): string | undefined {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return t === '' ? undefined : t;
}

function shown(value: string): string {
  return value.length > 100 ? `${value.slice(0, 100)}…` : value;
}

/**
 * An origin in the form browsers send it (`scheme://host[:port]`, lowercase, default port
 * dropped for http/https), or undefined when `value` is not one. `null` is never an origin to
 * allow: every file:// and sandboxed page sends it.
 */
export function normalizeOrigin(value: string): string | undefined {
  const v = value.trim().replace(/\/+$/, '').toLowerCase();
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/\s?#@]+$/.test(v)) return undefined;
  if (v.startsWith('http://') || v.startsWith('https://')) {
    try {
      return new URL(v).origin;
    } catch {
      return undefined;
    }
  }
  // e.g. vscode-webview://<id>: URL.origin is 'null' for non-special schemes, so keep it as given.
  return v;
}

export class OriginPolicy {
  private readonly allowed: Set<string>;

  /** Throws on an entry that is not an origin. */
  constructor(allowedOrigins: readonly string[] = []) {
    this.allowed = new Set(
      allowedOrigins.map((o) => {
        const n = normalizeOrigin(o);
        if (!n) throw new Error(`Invalid allowed origin '${o}': give scheme://host[:port], e.g. http://localhost:3000 ('null' can't be allowed).`);
        return n;
      }),
    );
  }

  /** The refusal (403 PERMISSION_DENIED) for a cross-site request, or undefined to let it through. */
  check(method: string, headers: http.IncomingHttpHeaders): MlflowError | undefined {
    const origin = header(headers, 'origin');
    if (origin !== undefined) {
      if (this.isOwn(origin, header(headers, 'host')) || this.allowed.has(normalizeOrigin(origin) ?? '')) return undefined;
      return new MlflowError(
        'PERMISSION_DENIED',
        `Cross-origin request blocked: Origin '${shown(origin)}' is not this server's origin. Allow it with 'runlens serve --allowed-origin <origin>'.`,
      );
    }
    const site = header(headers, 'sec-fetch-site')?.toLowerCase();
    if (site !== 'cross-site' && site !== 'same-site') return undefined;
    const navigation = header(headers, 'sec-fetch-mode')?.toLowerCase() === 'navigate';
    if (STATE_CHANGING.has(method) || !navigation) {
      return new MlflowError('PERMISSION_DENIED', `Cross-origin request blocked: the browser sent it from another site (Sec-Fetch-Site: ${site}).`);
    }
    return undefined;
  }

  /**
   * CORS headers for a request from an explicitly allowed origin (none for the server's own
   * origin, which needs none, or for any other). `preflight` is set for an OPTIONS preflight,
   * which the caller answers with 204 and these headers.
   */
  cors(method: string, headers: http.IncomingHttpHeaders): { preflight: boolean; headers: Record<string, string> } | undefined {
    const origin = header(headers, 'origin');
    const normalized = origin === undefined ? undefined : normalizeOrigin(origin);
    if (origin === undefined || normalized === undefined || !this.allowed.has(normalized) || this.isOwn(origin, header(headers, 'host'))) return undefined;
    const out: Record<string, string> = { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' };
    const requested = header(headers, 'access-control-request-method');
    if (method !== 'OPTIONS' || requested === undefined) return { preflight: false, headers: out };
    out['Access-Control-Allow-Methods'] = 'GET, POST, PUT, PATCH, DELETE';
    const wanted = header(headers, 'access-control-request-headers');
    // Echo the requested header names (tokens only): Content-Type, X-MLflow-Experiment-Id, …
    if (wanted && /^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s*,\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+)*$/.test(wanted.trim())) out['Access-Control-Allow-Headers'] = wanted.trim();
    out['Access-Control-Max-Age'] = '600';
    return { preflight: true, headers: out };
  }

  /**
   * The page came from this server: its origin is the address the request was sent to. https
   * counts too: only a TLS proxy in front of this very host:port (already let through the Host
   * check) can serve a page with that origin.
   */
  private isOwn(origin: string, host: string | undefined): boolean {
    if (!host) return false;
    const normalized = normalizeOrigin(origin);
    try {
      return normalized === new URL(`http://${host}`).origin || normalized === new URL(`https://${host}`).origin;
    } catch {
      return false;
    }
  }
}

/** The 400 for a JSON route's content type, checked before the body is read. */
export function jsonContentTypeRefusal(method: string, headers: http.IncomingHttpHeaders): MlflowError | undefined {
  if (!STATE_CHANGING.has(method)) return undefined;
  const contentType = header(headers, 'content-type');
  const type = mediaType(contentType);
  if (type === 'application/json') return undefined;
  // A DELETE may have no body at all (the mlflow client's artifact deletes); one with a body
  // (Content-Length or Transfer-Encoding, RFC 9112 §6.3) needs the type like any other.
  const hasBody = Number(header(headers, 'content-length') ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
  if (method === 'DELETE' && type === undefined && !hasBody) return undefined;
  return type === undefined
    ? new MlflowError('INVALID_PARAMETER_VALUE', "Bad Request. Content-Type header is missing: send the request as JSON with Content-Type 'application/json'.")
    : new MlflowError('INVALID_PARAMETER_VALUE', `Bad Request. Content-Type must be 'application/json', got '${shown(contentType ?? '')}'.`);
}

/**
 * The 400 for a raw-body route's content type: the form types a browser sends without a
 * preflight, on the methods it can send that way (POST). Raw PUTs (artifact and multipart-part
 * uploads) take any type: the mlflow client labels .txt/.json/.yaml/MLmodel and traces.json
 * uploads text/plain (`_guess_mime_type`), parts go untyped, and Python's urllib and
 * `curl --data-binary` default to form-urlencoded; a cross-site PUT needs a preflight, which
 * only allowed origins get.
 */
export function rawContentTypeRefusal(method: string, contentType: string | undefined): MlflowError | undefined {
  const type = mediaType(contentType);
  if (type === undefined || method !== 'POST' || !FORM_CONTENT_TYPES.includes(type)) return undefined;
  return new MlflowError('INVALID_PARAMETER_VALUE', `Bad Request. Content-Type '${shown(type)}' is not accepted for ${method} here.`);
}
