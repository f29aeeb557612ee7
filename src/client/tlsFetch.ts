/**
 * `fetch` for a team server with its own TLS trust, as MLflow's client offers it: a custom CA
 * bundle (MLFLOW_TRACKING_SERVER_CERT_PATH) or, opted into, no certificate check at all
 * (MLFLOW_TRACKING_INSECURE_TLS). Node's global fetch cannot take either per request without
 * changing the whole process (the extension host is VS Code's), so https requests go through
 * node:https with these options and come back as a standard `Response`. Node-only: the browser
 * views never import it.
 */
import * as fs from 'node:fs';
import * as https from 'node:https';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';

export interface TlsOptions {
  /** A PEM file of the certificate authorities to trust (instead of the system's). */
  caFile?: string | undefined;
  /** Skip certificate verification (a self-signed test server); never the default. */
  insecure?: boolean | undefined;
}

export type FetchFn = typeof fetch;

/** A connection silent this long is given up (Node's global fetch gives up after 300 s). */
const IDLE_TIMEOUT_MS = 120_000;

/**
 * The codes Node gives a TLS connection whose certificate it does not trust (OpenSSL's verify
 * results, and Node's own for a certificate of another host): what a CA file or `insecure` would change.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_CHAIN_TOO_LONG',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'INVALID_CA',
  'INVALID_PURPOSE',
  'PATH_LENGTH_EXCEEDED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_TLS_CERT_ALTNAME_FORMAT',
]);

/**
 * The code of an untrusted server certificate in an error or the errors it was caused by (Node's
 * fetch fails with "fetch failed" and the socket's error as its `cause`; the clients wrap that
 * again). Only codes count: a message names the URL, and a host may be called "certificate".
 */
export function untrustedCertificateCode(err: unknown): string | undefined {
  let e = err;
  for (let depth = 0; depth < 10 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNTRUSTED_CERTIFICATE.has(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Whether these options change anything (else the global fetch is used as is). */
export const customTls = (opts: TlsOptions): boolean => !!opts.caFile || opts.insecure === true;

function headerRecord(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(h).forEach((v, k) => (out[k] = v));
  return out;
}

/** A request body as something node:https can write. */
function bodyStream(body: RequestInit["body"]): Readable | Buffer | undefined {
  if (body === null || body === undefined) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (typeof (body as ReadableStream).getReader === 'function') return Readable.fromWeb(body as WebReadableStream<Uint8Array>);
  throw new TypeError('tlsFetch: unsupported request body');
}

/**
 * A fetch that verifies https servers against `caFile` (or not at all, `insecure`); http URLs
 * and options that change nothing use the global fetch. Redirects are not followed (MLflow's
 * REST API does not redirect); an unreadable CA file fails every request with its path.
 */
export function tlsFetch(opts: TlsOptions): FetchFn {
  if (!customTls(opts)) return fetch;
  let ca: Buffer | undefined;
  let caError: Error | undefined;
  if (opts.caFile) {
    try {
      ca = fs.readFileSync(opts.caFile);
    } catch (err) {
      caError = new TypeError(`cannot read the CA certificates at ${opts.caFile}: ${(err as Error).message}`);
    }
  }
  const agent = new https.Agent({ keepAlive: true, ...(ca ? { ca } : {}), rejectUnauthorized: opts.insecure !== true });
  const fn = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.protocol !== 'https:') return fetch(input, init);
    if (caError) return Promise.reject(caError);
    return new Promise<Response>((resolve, reject) => {
      const body = bodyStream(init.body);
      const req = https.request(url, { method: init.method ?? 'GET', headers: headerRecord(init.headers), agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
        try {
          const status = res.statusCode ?? 0;
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (v === undefined) continue;
            for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
          }
          const empty = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
          if (empty) res.resume();
          resolve(new Response(empty ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>), { status, statusText: res.statusMessage ?? '', headers }));
        } catch (err) {
          // A status or header the Response cannot carry: a failed fetch, never an uncaught throw.
          res.destroy();
          reject(Object.assign(new TypeError(`fetch failed: ${(err as Error).message}`), { cause: err }));
        }
      });
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(Object.assign(new Error(`no answer in ${IDLE_TIMEOUT_MS / 1000} s`), { code: 'ETIMEDOUT' })));
      // Node's fetch fails with a TypeError whose cause is the socket's error (an abort: the
      // signal's reason, a TimeoutError for AbortSignal.timeout); keep that shape.
      req.on('error', (err) => {
        if (body instanceof Readable) body.destroy();
        const cause = init.signal?.aborted && init.signal.reason instanceof Error ? init.signal.reason : err;
        reject(Object.assign(new TypeError(`fetch failed: ${cause.message}`), { cause }));
      });
      if (body instanceof Readable) body.on('error', (err) => req.destroy(err)).pipe(req);
      else req.end(body);
    });
  };
  return fn as FetchFn;
}
