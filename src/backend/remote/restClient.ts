/**
 * The HTTP layer under the REST source: Node's `fetch` only, MLflow's client conventions.
 *
 * Auth as the Python client sends it (basic from a username and password, or a bearer token),
 * retries with exponential back-off and jitter on the status codes the client retries
 * (`mlflow/utils/request_utils.py`: 408, 429, 500, 502, 503, 504, honouring `Retry-After`), and at
 * most `maxInFlight` requests open at once, so an import never floods a shared server. A
 * download holds its slot until its body has been read, which is what bounds memory too.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { tlsFetch, untrustedCertificateCode, type FetchFn, type TlsOptions } from '../../client/tlsFetch';

export interface RestAuth {
  /** MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD. */
  username?: string;
  password?: string;
  /** MLFLOW_TRACKING_TOKEN; wins over basic auth, as in the client. */
  token?: string;
}

export interface RestClientOptions extends RestAuth, TlsOptions {
  /** Sent on every request (RUNLENS_TRACKING_HEADERS: a gateway's API key, a tenant header). */
  headers?: Record<string, string> | undefined;
  /** Requests open at once (default 6). */
  maxInFlight?: number;
  /** Retries after the first attempt (the client's MLFLOW_HTTP_REQUEST_MAX_RETRIES, default 7). */
  maxRetries?: number;
  /** Seconds; the n-th retry waits factor × 2^(n-1) plus jitter (MLflow's defaults: 2 and 1). */
  backoffFactor?: number;
  backoffJitter?: number;
  /** Longest single wait, seconds (urllib3's cap, 120). */
  maxBackoff?: number;
  /** Per-request timeout, seconds (MLFLOW_HTTP_REQUEST_TIMEOUT, default 120). */
  timeout?: number;
  /** What the requests are for: the User-Agent the server logs (`runlens-<purpose>`) and the permission a 403 asks for. */
  purpose?: 'import' | 'publish' | 'browse';
}

/** A request body that can be sent again on a retry (a stream is read once). */
export interface UploadBody {
  open(): Readable;
  size: number;
  /** Default `application/octet-stream`. */
  contentType?: string;
  headers?: Record<string, string>;
}

/** A failed request, with MLflow's error code when the server sent one. */
export class RestError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly errorCode: string,
  ) {
    super(message);
    this.name = 'RestError';
  }

  /** The endpoint does not exist on this server (an older MLflow), as opposed to a missing entity. */
  get endpointMissing(): boolean {
    return this.errorCode === 'ENDPOINT_NOT_FOUND' || (this.status === 404 && this.errorCode === 'HTTP_404') || this.status === 405;
  }
}

const RETRY_STATUSES = new Set([408, 429, 500, 502, 503, 504]);
/** Transport errors worth another try once the server has answered (a restart, a dropped keep-alive). */
const RETRY_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

/** GET: sent as a query string (arrays repeat the key); POST: the JSON body. */
type Query = Record<string, unknown>;

export class RestClient {
  readonly baseUrl: string;
  private readonly authHeader: string | undefined;
  private readonly maxInFlight: number;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  /** Until the server has answered once, a refused connection means "not running", not "restarting". */
  private answered = false;

  constructor(
    baseUrl: string,
    private readonly opts: RestClientOptions = {},
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    if (opts.token) this.authHeader = `Bearer ${opts.token}`;
    else if (opts.username !== undefined || opts.password !== undefined) {
      this.authHeader = `Basic ${Buffer.from(`${opts.username ?? ''}:${opts.password ?? ''}`).toString('base64')}`;
    }
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 6);
    this.fetchFn = tlsFetch(opts);
  }

  private readonly fetchFn: FetchFn;

  /** A JSON API call; GET sends `body` as a query string, as MLflow's client does. */
  async json<T>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', route: string, body: Query = {}): Promise<T> {
    const res = await this.send(method, route, body);
    try {
      const text = await res.text();
      try {
        return (text ? JSON.parse(text) : {}) as T;
      } catch {
        throw this.notMlflow(route, res, text);
      }
    } finally {
      this.release();
    }
  }

  /** A file download; the request's slot is held until the stream ends or is destroyed. */
  async download(route: string, query: Query): Promise<Readable> {
    const res = await this.send('GET', route, query);
    if (!res.body) {
      this.release();
      return Readable.from([]);
    }
    const stream = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
    let released = false;
    const done = (): void => {
      if (!released) this.release();
      released = true;
    };
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
    return stream;
  }

  /** Streams a file to a route with PUT (the artifact proxy's upload); the body is reopened on a retry. */
  async put(route: string, body: UploadBody, method: 'PUT' | 'POST' = 'PUT'): Promise<void> {
    const res = await this.send(method, route, {}, body);
    try {
      await res.arrayBuffer();
    } finally {
      this.release();
    }
  }

  /** Sends with retries; resolves holding a slot (the caller releases it after reading the body). */
  private async send(method: string, route: string, query: Query, upload?: UploadBody): Promise<Response> {
    let url = `${this.baseUrl}${route}`;
    const init: RequestInit = { method, headers: { 'User-Agent': `runlens-${this.opts.purpose ?? 'import'}` } };
    const headers = init.headers as Record<string, string>;
    Object.assign(headers, this.opts.headers ?? {});
    if (this.authHeader) headers.Authorization = this.authHeader;
    if (upload) {
      Object.assign(headers, upload.headers ?? {});
      headers['Content-Type'] = upload.contentType ?? 'application/octet-stream';
      headers['Content-Length'] = String(upload.size);
    } else if (method === 'GET') {
      const q = toQuery(query);
      if (q) url += `${url.includes('?') ? '&' : '?'}${q}`;
    } else {
      init.body = JSON.stringify(dropUndefined(query));
      headers['Content-Type'] = 'application/json';
    }
    const maxRetries = this.opts.maxRetries ?? 7;
    for (let attempt = 0; ; attempt++) {
      await this.acquire();
      let res: Response;
      try {
        // A stream body needs half-duplex in Node's fetch; it is reopened for every attempt.
        const body = upload ? { body: Readable.toWeb(upload.open()), duplex: 'half' } : {};
        res = await this.fetchFn(url, { ...init, ...body, signal: AbortSignal.timeout((this.opts.timeout ?? 120) * 1000) } as RequestInit);
      } catch (err) {
        this.release();
        const code = errorCode(err);
        if (attempt < maxRetries && this.answered && code !== undefined && RETRY_CODES.has(code)) {
          await sleep(this.backoff(attempt + 1, undefined));
          continue;
        }
        throw this.unreachable(err, code);
      }
      this.answered = true;
      if (res.ok) return res;
      const text = await res.text().catch(() => '');
      this.release();
      if (attempt < maxRetries && RETRY_STATUSES.has(res.status)) {
        await sleep(this.backoff(attempt + 1, res.headers.get('retry-after')));
        continue;
      }
      throw this.failure(route, res, text);
    }
  }

  private backoff(retry: number, retryAfter: string | null | undefined): number {
    const cap = (this.opts.maxBackoff ?? 120) * 1000;
    const after = retryAfter ? parseRetryAfter(retryAfter) : undefined;
    if (after !== undefined) return Math.min(after, cap);
    const factor = (this.opts.backoffFactor ?? 2) * 1000;
    const jitter = (this.opts.backoffJitter ?? 1) * 1000;
    return Math.min(factor * 2 ** (retry - 1) + Math.random() * jitter, cap);
  }

  private async acquire(): Promise<void> {
    if (this.inFlight < this.maxInFlight) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  /** Hands the slot to the next waiter (the count stays), or frees it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  // ---- messages -------------------------------------------------------------------------

  private unreachable(err: unknown, code: string | undefined): RestError {
    const timedOut = (err as Error).name === 'TimeoutError' || (err as { cause?: { name?: unknown } }).cause?.name === 'TimeoutError';
    const why = code ?? (timedOut ? 'timed out' : (err as Error).message);
    const tls = untrustedCertificateCode(err);
    if (tls) {
      const cause = (err as { cause?: { message?: string } }).cause?.message;
      return new RestError(
        `The MLflow server at ${this.baseUrl} answered with a TLS certificate this machine does not trust (${tls}${cause ? `: ${cause}` : ''}). Set MLFLOW_TRACKING_SERVER_CERT_PATH to the CA certificate file that signed it, or MLFLOW_TRACKING_INSECURE_TLS=true for a test server, as for MLflow's client.`,
        0,
        'UNAVAILABLE',
      );
    }
    return new RestError(
      `Cannot reach the MLflow server at ${this.baseUrl} (${why}). Check that it is running and that the URL (scheme, host, port) is right.`,
      0,
      'UNREACHABLE',
    );
  }

  private failure(route: string, res: Response, text: string): RestError {
    const body = parseMlflowError(text);
    if (res.status === 401) {
      const fix = this.authHeader
        ? 'The credentials given were rejected: check MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN.'
        : 'Set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (basic auth) or MLFLOW_TRACKING_TOKEN (bearer token).';
      return new RestError(`The MLflow server at ${this.baseUrl} requires authentication (401 on ${route}). ${fix}`, 401, body?.error_code ?? 'UNAUTHENTICATED');
    }
    if (res.status === 403) {
      const who = this.opts.username ? `user '${this.opts.username}'` : this.authHeader ? 'the token given' : 'an anonymous client';
      return new RestError(
        `The MLflow server at ${this.baseUrl} refused ${route} for ${who} (403${body?.message ? `: ${body.message}` : ''}). ` +
          `${this.opts.purpose === 'publish' ? 'Publishing needs write (EDIT) permission on the experiments it writes to' : 'Importing needs read permission on every experiment and registered model'}; use credentials (MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN) that have it.`,
        403,
        body?.error_code ?? 'PERMISSION_DENIED',
      );
    }
    if (body) return new RestError(`${route}: ${body.message ?? body.error_code} (${res.status} ${body.error_code ?? ''})`.trim(), res.status, body.error_code ?? `HTTP_${res.status}`);
    if (res.status === 404) return new RestError(`${route} is not served by ${this.baseUrl} (404)`, 404, 'HTTP_404');
    return new RestError(`${route} failed with ${res.status} ${res.statusText}: ${snippet(text)}`, res.status, `HTTP_${res.status}`);
  }

  notMlflow(route: string, res: Response, text: string): RestError {
    return new RestError(
      `${this.baseUrl} does not look like an MLflow tracking server: ${route} answered ${res.status} with ${res.headers.get('content-type') ?? 'no content type'} (${snippet(text)}). ` +
        'Give the server\'s base URL (e.g. http://host:5000), without /api or a UI path.',
      res.status,
      'NOT_MLFLOW',
    );
  }
}

function parseMlflowError(text: string): { error_code?: string; message?: string } | undefined {
  try {
    const v = JSON.parse(text) as { error_code?: unknown; message?: unknown } | null;
    if (v && typeof v === 'object' && (typeof v.error_code === 'string' || typeof v.message === 'string')) {
      return { error_code: typeof v.error_code === 'string' ? v.error_code : undefined, message: typeof v.message === 'string' ? v.message : undefined };
    }
  } catch {
    // not MLflow's JSON error body
  }
  return undefined;
}

function snippet(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 120 ? `${s.slice(0, 120)}…` : s || 'empty body';
}

function errorCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = cause?.code ?? (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** Seconds or an HTTP date → ms. */
function parseRetryAfter(v: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(v.trim())) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function dropUndefined(q: Query): Query {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined));
}

function toQuery(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    for (const item of Array.isArray(v) ? (v as unknown[]) : [v]) p.append(k, String(item));
  }
  return p.toString();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
