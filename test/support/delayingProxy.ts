// A proxy in front of a real server that holds chosen requests back (a slow team server) and
// notes which ones the browser gave up on (closed before their answer): what Cancel must do.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  url: string;
  body: string;
  /** The client closed the connection before the answer was sent. */
  aborted: boolean;
  answered: boolean;
}

export interface DelayingProxy {
  base: string;
  seen: ProxiedRequest[];
  /** How long to hold a request back before forwarding it (0: at once). */
  delay: (r: ProxiedRequest) => number;
  close(): Promise<void>;
}

/** The browser's headers as the server's own page would send them (a gateway the server trusts), so its same-origin check holds. */
function forwardedHeaders(headers: http.IncomingHttpHeaders, target: URL): http.OutgoingHttpHeaders {
  return { ...headers, host: target.host, ...(headers.origin ? { origin: target.origin } : {}), ...(headers.referer ? { referer: target.origin + new URL(headers.referer).pathname } : {}) };
}

export async function delayingProxy(upstream: string): Promise<DelayingProxy> {
  const target = new URL(upstream);
  const proxy: DelayingProxy = { base: '', seen: [], delay: () => 0, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', body: Buffer.concat(chunks).toString('utf8'), aborted: false, answered: false };
      proxy.seen.push(seen);
      res.on('close', () => {
        if (!res.writableFinished) seen.aborted = true;
      });
      const forward = (): void => {
        if (seen.aborted) return;
        const up = http.request({ host: target.hostname, port: target.port, path: seen.url, method: seen.method, headers: forwardedHeaders(req.headers, target) }, (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () => (seen.answered = true));
        });
        up.on('error', () => res.destroy());
        res.on('close', () => up.destroy());
        up.end(chunks.length ? Buffer.concat(chunks) : undefined);
      };
      const wait = proxy.delay(seen);
      if (wait > 0) setTimeout(forward, wait);
      else forward();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  };
  return proxy;
}
