/**
 * A view's cache of the last answer per request, for views that redraw without their data
 * changing (the compare view's axis pickers, the run page's note editor re-rendering sparklines,
 * artifacts and previews): the redraw asks again and gets the answer it had, with no round trip to
 * a far server. Any change push empties it, and an answer fetched across a push is not kept, so
 * the cache never shows what a change replaced. Only answers that arrived are kept (a failed or
 * cancelled call is asked again next time).
 */
import type { UiRequest, UiRequestKind, UiResult } from '../src/ui/protocol';
import type { CallOptions, Transport } from './transport';

/** Answers kept at most (an artifact preview can be an image of a few MB). */
const MAX_ENTRIES = 100;

/** `transport` answering repeated `kinds` requests from the cache until the next change push. */
export function withCache(transport: Transport, kinds: readonly UiRequestKind[]): Transport {
  const cached = new Set<UiRequestKind>(kinds);
  const answers = new Map<string, unknown>();
  let generation = 0;
  // Registered before the view's own listeners: a reload the push starts finds the cache empty.
  transport.onPush(() => {
    generation++;
    answers.clear();
  });
  const call = async <K extends UiRequestKind>(request: UiRequest<K>, options?: CallOptions): Promise<UiResult<K>> => {
    if (!cached.has(request.kind)) return transport.call(request, options);
    const key = JSON.stringify(request);
    if (answers.has(key)) {
      const answer = answers.get(key) as UiResult<K>;
      // Most recently used last: the oldest answer goes first when the cache is full.
      answers.delete(key);
      answers.set(key, answer);
      return answer;
    }
    const asked = generation;
    const answer = await transport.call(request, options);
    if (asked === generation) {
      answers.set(key, answer);
      for (const old of answers.keys()) {
        if (answers.size <= MAX_ENTRIES) break;
        answers.delete(old);
      }
    }
    return answer;
  };
  return { ...transport, call };
}
