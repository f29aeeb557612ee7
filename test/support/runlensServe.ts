// `runlens serve` from the built CLI as a separate process (what a user or another window runs).
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export interface ServeProcess {
  url: Promise<string>;
  stop(): void;
  /** Resolves once the process has exited (its store closed). */
  exited: Promise<void>;
}

/** The bundled CLI (npm run build), which the extension forks as its server. */
export const CLI_PATH = path.resolve(__dirname, '../../../dist/cli.js');

export function runlensServe(root: string, extraArgs: string[] = []): ServeProcess {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--root', root, '--port', '0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (code) => reject(new Error(`runlens serve exited with ${code}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { url, stop: () => child.kill('SIGTERM'), exited };
}
