/**
 * Node 20 and 22 can deadlock when a process ends, naturally or by `process.exit`, while a
 * concurrent TurboFan compile job is waiting for a garbage collection only the main thread can run
 * (nodejs/node#54918: the main thread waits in `NodePlatform::DrainTasks` or `Shutdown` for that job).
 * A one-shot command that builds a large string just before it exits hits it often: its output is
 * complete, but the process never exits. Running those commands with TurboFan compiling on the main
 * thread removes the wait cycle; the long-running server keeps concurrent compilation.
 */
export const SAFE_EXIT_NODE_FLAG = '--no-concurrent-recompilation';
