/**
 * The host's side of a view's requests: each request in flight keeps an AbortController, so the
 * view's `cancel` message (its Cancel button, a newer load of the same kind) or the view going
 * away (a closed panel, a reused one given a new page) aborts its fetches instead of leaving a
 * slow team server's answer to arrive for nobody. Pure (no VS Code): the panels and the Plots view
 * use it through ViewPanels.
 */
import type { ToHost, ToView, UiRequest } from './protocol';

/** Whether `err` is an abort (a cancelled request), which a view does not show as an error. */
export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

/** The error a cancelled call rejects with (the name `fetch` gives an aborted request). */
export function abortError(): Error {
  return Object.assign(new Error('The request was cancelled.'), { name: 'AbortError' });
}

export type RequestMessage = Extract<ToHost, { type: 'request' | 'cancel' }>;

export class ViewRequests<View> {
  private readonly views = new Map<View, Map<number, AbortController>>();

  /**
   * Handles a view's cancel message, or its request: `answer` computes the result with a signal
   * to hand to the client, the response goes to `post`, and `failed` hears a request that failed
   * (not one cancelled), to log it.
   */
  async receive(
    view: View,
    message: RequestMessage,
    answer: (request: UiRequest, signal: AbortSignal) => Promise<unknown>,
    post: (reply: ToView) => void,
    failed: (request: UiRequest, message: string) => void = () => undefined,
  ): Promise<void> {
    if (message.type === 'cancel') return this.views.get(view)?.get(message.id)?.abort();
    let mine = this.views.get(view);
    if (!mine) this.views.set(view, (mine = new Map()));
    const controller = new AbortController();
    mine.set(message.id, controller);
    let reply: ToView;
    try {
      reply = { type: 'response', id: message.id, ok: true, result: await answer(message.request, controller.signal) };
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      reply = { type: 'response', id: message.id, ok: false, error: text };
      if (!controller.signal.aborted) failed(message.request, text);
    } finally {
      if (mine.get(message.id) === controller) mine.delete(message.id);
      if (mine.size === 0 && this.views.get(view) === mine) this.views.delete(view);
    }
    // A cancelled request's view stopped waiting (its call already rejected): no response is owed.
    if (!controller.signal.aborted) post(reply);
  }

  /** Aborts every request `view` has in flight (it closed or got a new page). */
  cancelAll(view: View): void {
    const mine = this.views.get(view);
    this.views.delete(view);
    for (const c of mine?.values() ?? []) c.abort();
  }

  /** How many requests `view` has in flight. */
  pending(view: View): number {
    return this.views.get(view)?.size ?? 0;
  }
}
