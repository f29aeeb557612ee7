/**
 * Subscribes to a server's change feed (`/runlens/api/changes`, server-sent events) and keeps
 * reconnecting while open, so views refresh on writes from any process. Servers without the feed
 * (a plain `mlflow server`) answer 404: the stream then reports `unsupported` and stops.
 */
import * as http from 'node:http';
import type { ChangeEvent } from './wireTypes';

export type { ChangeEvent } from './wireTypes';

export type StreamState = 'connecting' | 'open' | 'unsupported' | 'closed';

export class ChangeStream {
  private req: http.ClientRequest | undefined;
  private retry: NodeJS.Timeout | undefined;
  private closed = false;
  private delayMs = 250;

  constructor(
    private readonly baseUrl: string,
    private readonly onChange: (e: ChangeEvent) => void,
    private readonly onState: (s: StreamState) => void = () => undefined,
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.closed) return;
    this.onState('connecting');
    const req = http.get(`${this.baseUrl}/runlens/api/changes`, (res) => {
      if (res.statusCode === 404) {
        res.resume();
        this.onState('unsupported');
        this.closed = true;
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        this.scheduleReconnect();
        return;
      }
      this.delayMs = 250;
      this.onState('open');
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (chunk: string) => {
        buf += chunk;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          for (const line of block.split('\n')) {
            if (!line.startsWith('data: ')) continue;
            try {
              this.onChange(JSON.parse(line.slice(6)) as ChangeEvent);
            } catch {
              // a malformed event is skipped, the stream goes on
            }
          }
        }
      });
      res.on('end', () => this.scheduleReconnect());
      res.on('error', () => this.scheduleReconnect());
    });
    req.on('error', () => this.scheduleReconnect());
    this.req = req;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retry) return;
    this.onState('connecting');
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.connect();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, 5000);
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.req?.destroy();
    this.onState('closed');
  }
}
