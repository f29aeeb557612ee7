/**
 * `GET /runlens/api/changes`: the store's change events as server-sent events, so every view
 * (the extension attached to any server, a browser) refreshes on writes without polling.
 */
import { PassThrough } from 'node:stream';
import type { StoreChange } from '../backend/api/changes';
import type { TrackingStore } from '../backend/api/tracking';
import type { Router } from './router';

const HEARTBEAT_MS = 15_000;

export class ChangeFeed {
  private readonly streams = new Set<PassThrough>();

  constructor(private readonly store: TrackingStore) {}

  register(router: Router): void {
    router.plain('GET', '/runlens/api/changes', async () => {
      const stream = new PassThrough();
      const unsubscribe = this.store.onDidChange((change: StoreChange) => {
        stream.write(`data: ${JSON.stringify(change)}\n\n`);
      });
      const heartbeat = setInterval(() => stream.write(': keep-alive\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      const stop = (): void => {
        clearInterval(heartbeat);
        unsubscribe();
        this.streams.delete(stream);
        stream.end();
      };
      // The response pipeline destroys the stream when the client goes away.
      stream.on('close', stop);
      this.streams.add(stream);
      stream.write('retry: 1000\n: connected\n\n');
      return {
        stream,
        status: 200,
        headers: { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' },
      };
    });
  }

  /** Ends every open feed so the HTTP server can close. */
  closeAll(): void {
    for (const s of [...this.streams]) s.end();
  }
}
