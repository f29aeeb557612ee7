/**
 * A real `mlflow server` (sqlite-backed, from .venv/pgserver, whose `mlflow server` runs) on a
 * free loopback port: with MLflow's own auth app (`--app-name basic-auth`) for tests of signing
 * in to a team server — the admin user is the only one — or plain, as a team server without
 * Runlens' routes. Its temp directory is removed on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '../../..');
export const MLFLOW_SERVER_BIN = path.join(ROOT, '.venv', 'pgserver', 'bin', 'mlflow');

export interface BasicAuthServer {
  url: string;
  username: string;
  password: string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startBasicAuthMlflow(timeoutMs = 120_000): Promise<BasicAuthServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-basicauth-'));
  const username = 'admin';
  const password = 'runlens-test-pw-1234';
  fs.writeFileSync(
    path.join(dir, 'basic_auth.ini'),
    `[mlflow]\ndefault_permission = READ\ndatabase_uri = sqlite:///${dir}/auth.db\nadmin_username = ${username}\nadmin_password = ${password}\nauthorization_function = mlflow.server.auth:authenticate_request_basic_auth\n`,
  );
  const env = { MLFLOW_AUTH_CONFIG_PATH: path.join(dir, 'basic_auth.ini'), MLFLOW_FLASK_SERVER_SECRET_KEY: 'runlens-test' };
  const headers = { Authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
  const server = await spawnMlflowServer(MLFLOW_SERVER_BIN, dir, ['--app-name', 'basic-auth'], env, headers, timeoutMs, 'mlflow server --app-name basic-auth');
  return { ...server, username, password };
}

/**
 * A plain `mlflow server` (sqlite, or `file` for a file store, proxied artifacts) with no auth:
 * what a team server without Runlens is. The 2.x venv's server runs on a file store only (its
 * SQLAlchemy is newer than 2.22's store code takes).
 */
export async function startMlflowServer(bin = MLFLOW_SERVER_BIN, timeoutMs = 120_000, store: 'sqlite' | 'file' = 'sqlite'): Promise<{ url: string; stop(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-mlflow-'));
  return spawnMlflowServer(bin, dir, [], {}, {}, timeoutMs, 'mlflow server', store === 'file' ? path.join(dir, 'mlruns') : `sqlite:///${dir}/mlflow.db`);
}

async function spawnMlflowServer(
  bin: string,
  dir: string,
  appArgs: string[],
  extraEnv: Record<string, string>,
  headers: Record<string, string>,
  timeoutMs: number,
  what: string,
  backend = `sqlite:///${dir}/mlflow.db`,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, MLFLOW_DISABLE_TELEMETRY: 'true', DO_NOT_TRACK: 'true' };
  for (const k of ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_USERNAME', 'MLFLOW_TRACKING_PASSWORD', 'MLFLOW_TRACKING_TOKEN']) delete env[k];
  const args = ['server', ...appArgs, '--backend-store-uri', backend, '--serve-artifacts', '--artifacts-destination', path.join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port), '--workers', '1'];
  const child: ChildProcess = spawn(bin, args, { cwd: dir, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((r) => child.once('exit', r));
      // The server forks its workers: the whole group goes.
      process.kill(-child.pid, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      const res = await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`, { headers });
      if (res.ok) return { url, stop };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  await stop();
  throw new Error(`${what} did not come up on ${url}:\n${stderr}`);
}
