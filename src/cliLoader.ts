/**
 * dist/cli.js: runs the CLI bundle (dist/cli-main.js) with a V8 code cache. Compiling the 2.8 MB
 * bundle is ~35 ms of every start; with the cache V8 reads the compiled code back instead (and the
 * functions compiled while the first server ran, not only the top level). The cache is written
 * once a process has run for a few seconds (a server, not `--help`) and is idle (serializing it
 * holds the event loop for a few ms, which must not land inside a burst of requests), atomically,
 * into RUNLENS_CODE_CACHE_DIR or the user's cache folder; RUNLENS_CODE_CACHE=off disables it. V8
 * rejects a cache made by another Node version, other flags or other source: the bundle then
 * compiles as usual and the cache is written again. Any failure here only costs the cache.
 * RUNLENS_CODE_CACHE_REPORT=1 prints on stderr whether the cache was accepted (for tests).
 *
 * The bundle is built with dynamic `import()` lowered to `require()` (esbuild.mjs): a vm.Script
 * has no module loader of its own, and an `import()` inside it would throw at run time.
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vm from 'node:vm';

const SAVE_AFTER_MS = 4000;
/** Checked this often after SAVE_AFTER_MS; the cache is written after an interval this idle. */
const IDLE_CHECK_MS = 500;
const IDLE_UTILIZATION = 0.05;

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

/** Caches of other builds not used for this long are removed when a new one is written. */
const STALE_MS = 7 * 24 * 3600 * 1000;

function writeCache(file: string, data: Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(tmp, data, { mode: 0o600 });
    fs.renameSync(tmp, file);
  } catch {
    fs.rmSync(tmp, { force: true });
    return;
  }
  // One cache per build: without this, every rebuild or upgrade would leave ~1 MB behind.
  try {
    const dir = path.dirname(file);
    for (const name of fs.readdirSync(dir)) {
      const other = path.join(dir, name);
      if (other === file || !/^cli-.*\.v8cache$/.test(name)) continue;
      if (Date.now() - fs.statSync(other).mtimeMs > STALE_MS) fs.rmSync(other, { force: true });
    }
  } catch {
    // Pruning is housekeeping: a failure leaves old files, nothing else.
  }
}

/** Writes the cache at the first quiet moment after SAVE_AFTER_MS (the loop less than 5% busy for IDLE_CHECK_MS). */
function saveWhenIdle(file: string, script: vm.Script): void {
  let last = performance.eventLoopUtilization();
  const check = (): void => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy > IDLE_UTILIZATION) {
      setTimeout(check, IDLE_CHECK_MS).unref();
      return;
    }
    writeCache(file, script.createCachedData());
  };
  setTimeout(() => {
    last = performance.eventLoopUtilization();
    setTimeout(check, IDLE_CHECK_MS).unref();
  }, SAVE_AFTER_MS).unref();
}

function run(): void {
  const main = path.join(__dirname, 'cli-main.js');
  const source = fs.readFileSync(main, 'utf8');
  const cacheFile = cacheFileFor(main);
  const cachedData = readCache(cacheFile);
  const script = new vm.Script(Module.wrap(source), { filename: main, ...(cachedData ? { cachedData } : {}) });
  if (cacheFile && cachedData && !script.cachedDataRejected) {
    // Marks the cache as in use, so another build's pruning keeps it.
    const now = new Date();
    try {
      fs.utimesSync(cacheFile, now, now);
    } catch {
      // read-only: it stays as old as it is
    }
  }
  if (process.env.RUNLENS_CODE_CACHE_REPORT) {
    const state = !cacheFile ? 'off' : !cachedData ? 'none' : script.cachedDataRejected ? 'rejected' : 'accepted';
    process.stderr.write(`runlens code cache: ${state}${cacheFile ? ` (${cacheFile})` : ''}\n`);
  }
  if (cacheFile && (!cachedData || script.cachedDataRejected)) saveWhenIdle(cacheFile, script);
  const wrapper = script.runInThisContext() as (exports: unknown, require: NodeJS.Require, module: Module, filename: string, dirname: string) => void;
  const mod = new Module(main, module);
  mod.filename = main;
  const requireFromMain = Module.createRequire(main);
  wrapper.call(mod.exports, mod.exports, requireFromMain, mod, main, path.dirname(main));
}

run();
