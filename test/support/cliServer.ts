// `runlens serve` from the built CLI as a child process that tests kill, restart and read the logs of.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

export interface CliServer {
  child: ChildProcess;
  url: string;
  /** Everything the server wrote to stderr so far (its log). */
  stderr: string[];
}

/** Starts `runlens serve --port 0 --root <root> --checkpoint-mb <mb> [extra…]`; resolves once it listens. */
export function startCli(root: string, checkpointMb: number, extra: string[] = []): Promise<CliServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--root', root, '--checkpoint-mb', String(checkpointMb), ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    let out = '';
    child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stderr });
    });
    child.on('exit', (code) => reject(new Error(`server exited early (${code}): ${stderr.join('')}`)));
  });
}
