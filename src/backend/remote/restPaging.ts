/** Page-token loops and bounded, order-keeping prefetch, shared by the REST source's readers. */
import type { LoggedModel } from '../../domain/modelTypes';
import type { RestClient } from './restClient';
import * as wire from './restWire';

export interface RestPage<T> {
  items: T[];
  next?: string | undefined;
}

/**
 * Every page, following the server's own `next_page_token` until it stops. A token the server
 * hands out twice would loop forever (MLflow 3.x before the fix answered a history request
 * without `max_results` that way), so that is an error naming the route.
 */
export async function* allPages<T>(what: string, fetchPage: (token: string | undefined) => Promise<RestPage<T>>): AsyncIterable<T[]> {
  const seen = new Set<string>();
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    if (page.items.length) yield page.items;
    token = page.next || undefined;
    if (token !== undefined) {
      if (seen.has(token)) throw new Error(`${what}: the server returned the same page token twice ('${token.slice(0, 40)}'); stopping instead of looping`);
      seen.add(token);
    }
  } while (token !== undefined);
}

/**
 * `fn` over `items` with up to `ahead` calls started before their result is needed, yielded in
 * input order: the next items' requests overlap the consumer's work on this one, and memory
 * holds at most `ahead` results.
 */
export async function* mapAhead<T, R>(items: Iterable<T>, ahead: number, fn: (item: T) => Promise<R>): AsyncIterable<R> {
  const queue: Promise<R>[] = [];
  const it = items[Symbol.iterator]();
  const refill = (): void => {
    while (queue.length < ahead) {
      const n = it.next();
      if (n.done) return;
      const p = fn(n.value);
      // Awaited in order below; this only keeps a later rejection from being "unhandled" first.
      p.catch(() => undefined);
      queue.push(p);
    }
  };
  refill();
  while (queue.length) {
    const r = await queue.shift()!;
    refill();
    yield r;
  }
}

/**
 * An experiment's logged models, page by page (MLflow 3's logged-models/search). A 2.x server has
 * no such endpoint: the RestError with endpointMissing reaches the caller, which decides.
 */
export function loggedModelPages(client: RestClient, what: string, experimentId: string): AsyncIterable<LoggedModel[]> {
  return allPages(what, async (token) => {
    const r = await client.json<{ models?: unknown[]; next_page_token?: string }>('POST', '/api/2.0/mlflow/logged-models/search', {
      experiment_ids: [experimentId],
      max_results: 100,
      page_token: token,
    });
    return { items: (r.models ?? []).map(wire.loggedModel), next: r.next_page_token };
  });
}
