/** The HTTP front: routing, body limits, JSON parsing, MLflow error bodies, Host and cross-site checks. */
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import { MlflowError } from '../domain/errors';
import { JsonDepthError, MAX_JSON_DEPTH, valueTooDeep } from '../domain/jsonDepth';
import type { Logger } from '../domain/logger';
import type { TrackingStore } from '../backend/api/tracking';
import { registerArtifactRoutes } from './handlers/artifacts';
import { registerDatasetRoutes, registerScorerRoutes } from './handlers/datasets';
import { registerExperimentRoutes } from './handlers/experiments';
import { registerMetricRoutes } from './handlers/metrics';
import { registerModelRoutes } from './handlers/models';
import { registerRunRoutes } from './handlers/runs';
import { registerGovernanceRoutes } from './handlers/governance';
import { registerSystemRoutes } from './handlers/system';
import { ImportJobs, type ImportRunner } from './importJobs';
import { registerTraceRoutes } from './handlers/traces';
import { registerUiArtifactRoutes } from './handlers/uiArtifacts';
import { registerUiRunRoutes } from './handlers/uiRuns';
import { registerGraphqlRoutes } from './handlers/graphql';
import { ChangeFeed } from './changeFeed';
import { registerUiRoutes } from './uiRoutes';
import { LaunchRegistry, registerLaunchRoutes, splitLaunchPrefix } from './launches';
import { jsonContentTypeRefusal, OriginPolicy, rawContentTypeRefusal } from './crossSite';
import { Fields, type FieldSource } from './requestFields';
import { HttpError, readBody } from './requestBody';
import { withoutStorePaths } from './errorText';
import { isDiskFull } from '../store/durableFiles';
import { Router, type HttpMethod, type RawResponse, type StreamResponse } from './router';
import { pipeline } from 'node:stream/promises';

export interface ServerOptions {
  store: TrackingStore;
  log: Logger;
  host?: string;
  port?: number;
  /** Largest JSON request body accepted (bytes). */
  maxBodyBytes?: number;
  /** Extra Host header values to accept besides loopback names (DNS-rebinding protection). */
  allowedHosts?: string[];
  /**
   * Browser origins besides the server's own that may send requests (e.g. a webview's origin);
   * they get CORS headers, so their pages can call the API with fetch. Any other `Origin` is
   * refused with 403; requests without one (non-browser clients) pass.
   */
  allowedOrigins?: string[];
  /** The built views (default: `webview/` beside the bundle). */
  uiAssetsDir?: string;
  /** How an import into the served store runs (given by serve.ts for a Runlens store; absent: none). */
  importer?: ImportRunner;
}

export interface RunningServer {
  server: http.Server;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
const HOST_CHECK_EXEMPT = new Set(['/health', '/version']);

export function buildRouter(
  store: TrackingStore,
  launches = new LaunchRegistry(),
  changes = new ChangeFeed(store),
  uiAssetsDir = path.join(__dirname, 'webview'),
  imports = new ImportJobs(undefined),
): Router {
  const router = new Router();
  imports.register(router);
  registerSystemRoutes(router, store.capabilities);
  registerGovernanceRoutes(router, store.governance);
  registerUiRoutes(router, uiAssetsDir, store);
  registerLaunchRoutes(router, launches);
  changes.register(router);
  registerExperimentRoutes(router, store);
  registerRunRoutes(router, store, launches);
  registerMetricRoutes(router, store);
  registerModelRoutes(router, store);
  registerArtifactRoutes(router, store);
  registerUiArtifactRoutes(router, store);
  registerUiRunRoutes(router, store);
  registerGraphqlRoutes(router, store);
  registerTraceRoutes(router, store);
  registerDatasetRoutes(router, store);
  registerScorerRoutes(router, store);
  return router;
}

function isStream(v: unknown): v is StreamResponse {
  return typeof v === 'object' && v !== null && 'stream' in v && 'headers' in v;
}

function isRaw(v: unknown): v is RawResponse {
  return typeof v === 'object' && v !== null && (v as RawResponse).raw === true;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, extraHeaders: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? {});
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...extraHeaders });
  res.end(text);
}

function sendError(res: http.ServerResponse, status: number, err: MlflowError, extraHeaders: Record<string, string> = {}): void {
  sendJson(res, status, err.toJSON(), extraHeaders);
}

function queryToSource(params: URLSearchParams): FieldSource {
  const out: FieldSource = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

/** A JSON route's body (its content type was checked before reading it). */
function parseJsonBody(body: Buffer): FieldSource {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
    // Some clients double-encode the body as a JSON string.
    if (typeof parsed === 'string') parsed = JSON.parse(parsed);
    if (valueTooDeep(parsed)) throw new JsonDepthError(MAX_JSON_DEPTH);
  } catch (err) {
    throw new MlflowError('MALFORMED_REQUEST', `Malformed JSON request body: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MlflowError('MALFORMED_REQUEST', 'The request body must be a JSON object.');
  }
  return parsed as FieldSource;
}

function hostAllowed(hostHeader: string | undefined, allowed: Set<string>): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.replace(/:\d+$/, '').toLowerCase();
  return allowed.has(host);
}

export function createRequestListener(router: Router, opts: ServerOptions): http.RequestListener {
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const allowedHosts = new Set(['localhost', '127.0.0.1', '[::1]', ...(opts.allowedHosts ?? []).map((h) => h.toLowerCase())]);
  if (opts.host && opts.host !== '0.0.0.0' && opts.host !== '::') allowedHosts.add(opts.host.toLowerCase());
  const hostCheck = !(opts.allowedHosts ?? []).includes('*');
  const origins = new OriginPolicy(opts.allowedOrigins);
  const governance = opts.store.governance;
  return (req, res) => {
    // Nothing this server answers is meant to be framed by another page (clickjacking).
    res.setHeader('X-Frame-Options', 'DENY');
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? '/', 'http://localhost');
    // A launch prefix routes like the bare path; the id only adds tags to runs it creates.
    const { launchId, path: pathname } = splitLaunchPrefix(url.pathname);
    url.pathname = pathname;
    const method = (req.method ?? 'GET').toUpperCase();
    const done = (status: number): void => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      opts.log.debug(`${method} ${url.pathname} ${status} ${ms.toFixed(2)}ms`);
    };
    if (hostCheck && !HOST_CHECK_EXEMPT.has(url.pathname) && !hostAllowed(req.headers.host, allowedHosts)) {
      // Its body (if any) is never read: close, so the rest is not parsed as the next request.
      res.writeHead(403, { 'Content-Type': 'text/plain', ...(method !== 'GET' ? { Connection: 'close' } : {}) });
      res.end('Invalid Host header - possible DNS rebinding attack detected');
      done(403);
      return;
    }
    const crossSite = origins.check(method, req.headers);
    if (crossSite) {
      // The body (if any) is never read: close rather than parse its bytes as a request.
      sendError(res, crossSite.httpStatus, crossSite, { Connection: 'close' });
      req.resume();
      done(crossSite.httpStatus);
      return;
    }
    const cors = origins.cors(method, req.headers);
    if (cors) {
      for (const [name, value] of Object.entries(cors.headers)) res.setHeader(name, value);
      if (cors.preflight) {
        res.writeHead(204);
        res.end();
        req.resume();
        done(204);
        return;
      }
    }
    const match = router.match(method, url.pathname);
    if (match === undefined || match === 'method-not-allowed') {
      const notAllowed = match === 'method-not-allowed';
      sendError(
        res,
        notAllowed ? 405 : 404,
        new MlflowError('ENDPOINT_NOT_FOUND', notAllowed ? `Method ${method} is not allowed for ${url.pathname}` : `No API endpoint at ${url.pathname}`),
        // A body sent to no endpoint may still be arriving: close rather than read the rest of it as the next request.
        Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined ? { Connection: 'close' } : {},
      );
      req.resume();
      done(notAllowed ? 405 : 404);
      return;
    }
    void (async () => {
      try {
        let source: FieldSource;
        if (method === 'GET' || method === 'HEAD') {
          source = queryToSource(url.searchParams);
          req.resume();
        } else if (match.rawBody) {
          const refused = rawContentTypeRefusal(method, req.headers['content-type']);
          if (refused) throw refused;
          source = queryToSource(url.searchParams);
        } else {
          const refused = jsonContentTypeRefusal(method, req.headers);
          if (refused) throw refused;
          const body = parseJsonBody(await readBody(req, limit));
          // Fields come from the JSON body, as in MLflow. DELETE also takes query parameters (some
          // clients send its fields there; a browser can't send a cross-site DELETE without a
          // preflight, which this server never grants); its body wins.
          source = method === 'DELETE' ? { ...queryToSource(url.searchParams), ...body } : body;
        }
        // HEAD runs the GET handler; node sends its status and headers without the body.
        const apiRequest = {
          method: (method === 'HEAD' ? 'GET' : method) as HttpMethod,
          path: url.pathname,
          fields: new Fields(source, method === 'GET' || method === 'HEAD' || match.rawBody),
          pathParams: match.pathParams,
          raw: req,
          launchId,
        };
        // A governed store attributes each operation to the request's basic-auth user, if any.
        const result = governance ? await governance.runAs(basicAuthUser(req.headers.authorization), () => match.handler(apiRequest)) : await match.handler(apiRequest);
        if (isStream(result)) {
          res.writeHead(result.status, result.headers);
          if (method === 'HEAD') {
            res.end();
            (result.stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
            done(result.status);
            return;
          }
          await pipeline(result.stream, res).catch((err: Error) => opts.log.debug(`${url.pathname}: download cut off: ${err.message}`));
          done(result.status);
        } else if (isRaw(result)) {
          res.writeHead(result.status, { 'Content-Type': result.contentType, 'Content-Length': Buffer.byteLength(result.body), ...result.headers });
          res.end(result.body);
          done(result.status);
        } else {
          sendJson(res, 200, result);
          done(200);
        }
      } catch (err) {
        if (err instanceof HttpError) {
          sendError(res, err.status, err.body, { Connection: 'close' });
          done(err.status);
        } else {
          // A refused or failed request may not have been read to the end: close rather than
          // parse its remaining bytes as the next request (the client would wait for an answer).
          const unread = method !== 'GET' && method !== 'HEAD' && !req.complete;
          if (unread) req.resume();
          const closing: Record<string, string> = unread ? { Connection: 'close' } : {};
          if (err instanceof MlflowError) {
            const status = refusalStatus(err, req.headers['user-agent']);
            sendError(res, status, withoutStorePaths(err, opts.store.artifacts.localRoot), closing);
            done(status);
          } else if (isDiskFull(err)) {
            // An artifact or span write hit a full disk: nothing was kept, and a retry may succeed.
            opts.log.error(`${method} ${url.pathname}: ${(err as Error).message}`);
            const full = new MlflowError('TEMPORARILY_UNAVAILABLE', "The tracking store's disk is full. Nothing from this request was saved; free some space and retry.");
            sendError(res, full.httpStatus, full, closing);
            done(full.httpStatus);
          } else {
            opts.log.error(`${method} ${url.pathname} failed: ${(err as Error).stack ?? String(err)}`);
            sendError(res, 500, withoutStorePaths(new MlflowError('INTERNAL_ERROR', `Internal error: ${(err as Error).message}`), opts.store.artifacts.localRoot), closing);
            done(500);
          }
        }
      }
    })();
  };
}

/** Starts listening; resolves once the socket accepts connections. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const changes = new ChangeFeed(opts.store);
  const router = buildRouter(opts.store, new LaunchRegistry(), changes, opts.uiAssetsDir, new ImportJobs(opts.importer));
  const listener = createRequestListener(router, opts);
  let closing = false;
  // Once closing, every answer ends its connection: a client that keeps reusing a keep-alive
  // socket (fetch's pool) would otherwise hold the shutdown up for keepAliveTimeout, and keep
  // seeing a healthy server that is on its way out (a window would attach to it).
  const server = http.createServer((req, res) => {
    if (closing) res.shouldKeepAlive = false;
    listener(req, res);
  });
  // Python's requests keeps connections alive between calls; don't drop them under it.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 5000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    server,
    host,
    port,
    url: `http://${urlHost}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        // Connections turn idle only after their last response is out (the feeds ended below
        // finish a tick later): close them as they do, not when the client's pool drops them.
        const sweep = setInterval(() => server.closeIdleConnections(), 50);
        server.close(() => {
          clearInterval(sweep);
          resolve();
        });
        changes.closeAll();
        server.closeIdleConnections();
      }),
  };
}

/** The user of a `Basic` Authorization header (the client sends MLFLOW_TRACKING_USERNAME so). */
export function basicAuthUser(header: string | undefined): string | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const user = decoded.slice(0, Math.max(0, decoded.indexOf(':')));
  return user || undefined;
}

/**
 * A budget refusal is RESOURCE_EXHAUSTED, which MLflow answers with 429. MLflow's Python client
 * retries every 429 with back-off for minutes and then raises "too many 429 error responses",
 * dropping the body that names the budget; to it the same error goes out as 403, which it does
 * not retry, so the user sees the MlflowException saying which budget and how to raise it.
 */
export function refusalStatus(err: MlflowError, userAgent: string | undefined): number {
  if (err.errorCode === 'RESOURCE_EXHAUSTED' && (userAgent ?? '').startsWith('mlflow-python-client/')) return 403;
  return err.httpStatus;
}
