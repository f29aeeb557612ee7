/**
 * dist/cli.js: runs the CLI bundle (dist/cli-main.js) with a V8 code cache. Compiling the 2.8 MB
 * bundle is ~35 ms of every start; with the cache V8 reads the compiled code back instead (and the
 * functions compiled while the first server ran, not only the top level). The cache is written
 * once a process has run for a few seconds (a server, not `--help`), atomically, into
 * RUNLENS_CODE_CACHE_DIR or the user's cache folder; RUNLENS_CODE_CACHE=off disables it. V8
 * rejects a cache made by another Node version, other flags or other source: the bundle then
 * compiles as usual and the cache is written again. Any failure here only costs the cache.
 * RUNLENS_CODE_CACHE_REPORT=1 prints on stderr whether the cache was accepted (for tests).
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';

const SAVE_AFTER_MS = 4000;

function cacheFileFor(main: string): string | undefined {
  if (process.env.RUNLENS_CODE_CACHE === 'off') return undefined;
  try {
    const st = fs.statSync(main);
    const dir = process.env.RUNLENS_CODE_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'runlens');
    return path.join(dir, `cli-${process.version}-${process.arch}-${st.size}-${Math.trunc(st.mtimeMs)}.v8cache`);
  } catch {
    return undefined;
  }
}

function readCache(file: string | undefined): Buffer | undefined {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

function run(): void {
  const main = path.join(__dirname, 'cli-main.js');
  const source = fs.readFileSync(main, 'utf8');
  const cacheFile = cacheFileFor(main);
  const cachedData = readCache(cacheFile);
  const script = new vm.Script(Module.wrap(source), { filename: main, ...(cachedData ? { cachedData } : {}) });
  if (process.env.RUNLENS_CODE_CACHE_REPORT) {
    const state = !cacheFile ? 'off' : !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`runlens code cache: ${state}${cacheFile ? ` (${cacheFile})` : ''}\n`);
  }
  if (cacheFile && (!cachedData || script.cachedDataRejected)) {
    setTimeout(() => writeCache(cacheFile, script.createCachedData()), SAVE_AFTER_MS).unref();
  }
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  const mod = new Module(main, module);
  mod.filename = main;
  const requireFromMain = Module.createRequire(main);
  wrapper.call(mod.exports, mod.exports, requireFromMain, mod, main, path.dirname(main));
}

run();
