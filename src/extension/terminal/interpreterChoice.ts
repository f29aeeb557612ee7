/**
 * Which Python runs a tracked launch, and whether it has mlflow. No VS Code imports: the Python
 * extension's exports are passed in as `unknown` and read defensively (it may be absent, old, or
 * changed shape), so the choice is testable on plain Node.
 *
 * Order: the interpreter selected in the Python extension, then the `runlens.python.path`
 * setting, then a workspace virtual environment, then `python3` on PATH. The Python extension
 * comes first because a user who picked an interpreter there expects every tool to use it.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type InterpreterSource = 'python-extension' | 'setting' | 'workspace-venv' | 'path';

export interface Interpreter {
  /** The executable, then any arguments that must precede the script (a `conda run` prefix). */
  command: string;
  prefixArgs: string[];
  source: InterpreterSource;
}

/** Virtual environment folders looked for in the workspace root, in this order. */
export const WORKSPACE_VENVS = ['.venv', 'venv', 'env'];

/** How the choice is explained to the user. */
export function describeSource(i: Interpreter): string {
  switch (i.source) {
    case 'python-extension':
      return 'the interpreter selected in the Python extension';
    case 'setting':
      return 'the "runlens.python.path" setting';
    case 'workspace-venv':
      return 'the virtual environment in this workspace';
    case 'path':
      return 'python3 on PATH (no interpreter selected, no setting, no workspace .venv)';
  }
}

const READY_TIMEOUT_MS = 10_000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function isExecutableFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

/** An environment folder's interpreter (the API's active path may name the folder, not the binary). */
function executableIn(envPath: string): string | undefined {
  if (isExecutableFile(envPath)) return envPath;
  for (const rel of ['bin/python', 'bin/python3', 'Scripts/python.exe', 'python.exe']) {
    const p = path.join(envPath, rel);
    if (isExecutableFile(p)) return p;
  }
  return undefined;
}

/**
 * The interpreter the Python extension has selected for `resource`, from its exported API:
 * `environments.getActiveEnvironmentPath(resource)` (→ `{ id, path }`), resolved through
 * `environments.resolveEnvironment` when present, else the older
 * `settings.getExecutionDetails(resource).execCommand`. Undefined when the API gives nothing usable.
 */
export async function fromPythonExtensionApi(exports: unknown, resource: unknown): Promise<Interpreter | undefined> {
  if (!isRecord(exports)) return undefined;
  // `ready` resolves once the extension has discovered environments; a hung one must not block a launch.
  if (exports.ready !== undefined) {
    await Promise.race([Promise.resolve(exports.ready).catch(() => undefined), new Promise((r) => setTimeout(r, READY_TIMEOUT_MS))]);
  }
  const envs = exports.environments;
  if (isRecord(envs) && typeof envs.getActiveEnvironmentPath === 'function') {
    try {
      const active: unknown = envs.getActiveEnvironmentPath(resource);
      if (isRecord(active)) {
        if (typeof envs.resolveEnvironment === 'function') {
          const resolved: unknown = await Promise.resolve(envs.resolveEnvironment(active)).catch(() => undefined);
          const exe = isRecord(resolved) && isRecord(resolved.executable) ? resolved.executable : undefined;
          const uri = exe && isRecord(exe.uri) ? exe.uri : undefined;
          const fsPath = uri && typeof uri.fsPath === 'string' ? uri.fsPath : undefined;
          if (fsPath && isExecutableFile(fsPath)) return { command: fsPath, prefixArgs: [], source: 'python-extension' };
        }
        const p = typeof active.path === 'string' ? executableIn(active.path) : undefined;
        if (p) return { command: p, prefixArgs: [], source: 'python-extension' };
      }
    } catch {
      // an API that throws is treated as absent
    }
  }
  const settings = exports.settings;
  if (isRecord(settings) && typeof settings.getExecutionDetails === 'function') {
    try {
      const details: unknown = settings.getExecutionDetails(resource);
      const cmd = isRecord(details) && Array.isArray(details.execCommand) ? details.execCommand.filter((s): s is string => typeof s === 'string') : [];
      // A bare "python" is the extension's placeholder when nothing is selected: not a choice.
      if (cmd.length > 0 && (cmd.length > 1 || path.isAbsolute(cmd[0]!))) return { command: cmd[0]!, prefixArgs: cmd.slice(1), source: 'python-extension' };
    } catch {
      // as above
    }
  }
  return undefined;
}

/** The rest of the order, after the Python extension: setting, workspace venv, python3. */
export function fallbackInterpreter(configured: string, root: string | undefined): Interpreter {
  if (configured) return { command: configured, prefixArgs: [], source: 'setting' };
  if (root) {
    for (const dir of WORKSPACE_VENVS) {
      const exe = executableIn(path.join(root, dir));
      if (exe && exe !== path.join(root, dir)) return { command: exe, prefixArgs: [], source: 'workspace-venv' };
    }
  }
  return { command: process.platform === 'win32' ? 'python' : 'python3', prefixArgs: [], source: 'path' };
}

export type MlflowCheck = { kind: 'ok' } | { kind: 'missing' } | { kind: 'noInterpreter'; error: string } | { kind: 'unknown'; error: string };

/** Exit code the probe uses for "mlflow is not importable" (any other failure is not that). */
const MISSING = 3;

/**
 * Whether `mlflow` can be imported by the interpreter. `find_spec` looks the package up without
 * importing it, so the probe costs an interpreter start (~50 ms), not mlflow's import (~2 s).
 */
export function checkMlflow(i: Interpreter, cwd: string, timeoutMs = 20_000): Promise<MlflowCheck> {
  const code = `import importlib.util, sys; sys.exit(0 if importlib.util.find_spec("mlflow") else ${MISSING})`;
  return new Promise((resolve) => {
    execFile(i.command, [...i.prefixArgs, '-c', code], { cwd, timeout: timeoutMs }, (err, _stdout, stderr) => {
      if (!err) return resolve({ kind: 'ok' });
      // execFile reports a spawn failure's errno name and an exit status alike in `code`.
      const code = (err as { code?: unknown }).code;
      if (code === 'ENOENT' || code === 'EACCES') return resolve({ kind: 'noInterpreter', error: err.message });
      if (code === MISSING) return resolve({ kind: 'missing' });
      const e = err;
      resolve({ kind: 'unknown', error: (String(stderr).trim() || e.message).slice(-500) });
    });
  });
}

/** The message shown when the chosen interpreter lacks mlflow: which one, and how it was chosen. */
export function missingMlflowMessage(i: Interpreter): string {
  return `Runlens: mlflow is not installed in ${[i.command, ...i.prefixArgs].join(' ')} (chosen from ${describeSource(i)}). The script would fail with "No module named 'mlflow'".`;
}

/** A POSIX shell word for `arg` (the command line shown and tagged, the pip line typed). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The shell line that installs mlflow into exactly that interpreter. */
export function pipInstallCommand(i: Interpreter, quote: (s: string) => string): string {
  return [i.command, ...i.prefixArgs, '-m', 'pip', 'install', 'mlflow'].map(quote).join(' ');
}
