/**
 * One route table for the whole API. REST routes are registered by their MLflow suffix
 * (`/mlflow/runs/create`) and answered under `/api/2.0`, `/api/3.0`, `/ajax-api/2.0` and
 * `/ajax-api/3.0`, since the client always builds `/api/2.0` URLs for RPCs declared in 2.x and
 * the UI uses `/ajax-api`. Literal segments win over `:param` segments.
 */
import type { Fields } from './requestFields';
import type * as http from 'node:http';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface ApiRequest {
  method: HttpMethod;
  path: string;
  fields: Fields;
  pathParams: Record<string, string>;
  raw: http.IncomingMessage;
  /** Set when the request came through a launch-scoped tracking URI (see launches.ts). */
  launchId?: string | undefined;
}

/** A non-JSON response (health checks, version probes, files). */
export interface RawResponse {
  raw: true;
  status: number;
  contentType: string;
  body: string | Buffer;
  headers?: Record<string, string>;
}

/** A streamed response (artifact downloads). */
export interface StreamResponse {
  stream: NodeJS.ReadableStream;
  status: number;
  headers: Record<string, string | number>;
}

export type Handler = (req: ApiRequest) => Promise<unknown>;

interface Route {
  method: HttpMethod;
  segments: string[];
  handler: Handler;
  /** Body is consumed by the handler itself (not parsed as JSON). */
  rawBody: boolean;
  /** API prefixes the route answers under (default: all four), for routes MLflow serves at one. */
  prefixes?: readonly string[] | undefined;
}

/** One registered route, as listed for tests and tools (`#api` marks the MLflow API prefixes). */
export interface RouteInfo {
  method: HttpMethod;
  /** `/mlflow/runs/create` for API routes (served under every API prefix), the full path otherwise. */
  path: string;
  api: boolean;
  rawBody: boolean;
}

export interface RouteMatch {
  handler: Handler;
  pathParams: Record<string, string>;
  rawBody: boolean;
}

const API_PREFIX = /^\/(?:ajax-)?api\/[23]\.0(?=\/)/;

export class Router {
  private readonly routes: Route[] = [];

  /** Registers an MLflow REST route by suffix, e.g. `('POST', '/mlflow/runs/create', h)`. */
  api(method: HttpMethod, suffix: string, handler: Handler, opts: { rawBody?: boolean; prefixes?: readonly string[] } = {}): void {
    this.routes.push({ method, segments: ['#api', ...suffix.split('/').filter(Boolean)], handler, rawBody: opts.rawBody ?? false, prefixes: opts.prefixes });
  }

  /** Registers a route at an exact path, e.g. `/health`. */
  plain(method: HttpMethod, path: string, handler: Handler, opts: { rawBody?: boolean } = {}): void {
    this.routes.push({ method, segments: path.split('/').filter(Boolean), handler, rawBody: opts.rawBody ?? false });
  }

  /** Every registered route, in registration order. */
  list(): RouteInfo[] {
    return this.routes.map((r) => {
      const api = r.segments[0] === '#api';
      return { method: r.method, path: '/' + (api ? r.segments.slice(1) : r.segments).join('/'), api, rawBody: r.rawBody };
    });
  }

  /**
   * Finds the route for a request path. Returns `'method-not-allowed'` when the path exists
   * under another method, so the caller can answer 405.
   */
  match(method: string, pathname: string): RouteMatch | 'method-not-allowed' | undefined {
    const api = API_PREFIX.exec(pathname);
    const segments = api ? ['#api', ...pathname.slice(api[0].length).split('/').filter(Boolean)] : pathname.split('/').filter(Boolean);
    let best: { route: Route; params: Record<string, string>; literals: number } | undefined;
    let pathExists = false;
    for (const route of this.routes) {
      if (route.prefixes && !(api && route.prefixes.includes(api[0]))) continue;
      const last = route.segments[route.segments.length - 1] ?? '';
      // A final `*name` segment takes the rest of the path (one or more segments).
      const rest = last.startsWith('*');
      if (rest ? segments.length < route.segments.length : route.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < route.segments.length && ok; i++) {
        const want = route.segments[i]!;
        try {
          if (want.startsWith('*')) params[want.slice(1)] = segments.slice(i).map((x) => decodeURIComponent(x)).join('/');
          else if (want.startsWith(':')) params[want.slice(1)] = decodeURIComponent(segments[i]!);
          else if (want === segments[i]) literals++;
          else ok = false;
        } catch {
          ok = false; // malformed %-escape: no route matches
        }
      }
      if (!ok) continue;
      pathExists = true;
      if (route.method !== method) continue;
      if (!best || literals > best.literals) best = { route, params, literals };
    }
    if (best) return { handler: best.route.handler, pathParams: best.params, rawBody: best.route.rawBody };
    // As flask (MLflow's server): every GET route answers HEAD too, unless HEAD has its own route.
    if (method === 'HEAD' && pathExists) return this.match('GET', pathname);
    return pathExists ? 'method-not-allowed' : undefined;
  }
}
