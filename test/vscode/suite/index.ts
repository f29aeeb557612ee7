// Mocha runner loaded by the extension host (extensionTestsPath). Reporter lines are prefixed with
// "[mocha] " so the harness can pick them out of the workbench's console noise.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import Mocha from 'mocha';
import * as vscode from 'vscode';
import type { RunlensApi } from '../../../src/extension/api';

/**
 * For the harness's check that closing the window leaves no server process behind: this
 * extension host's pid and the server serving the workspace when the tests end.
 */
function recordProcesses(): void {
  const dir = process.env.RUNLENS_TEST_RESULTS;
  if (!dir) return;
  fs.writeFileSync(path.join(dir, 'extension-host-pid.txt'), String(process.pid));
  const state = vscode.extensions.getExtension<RunlensApi>('runlens.runlens')?.exports?.service.state;
  if (state?.kind === 'ready' && state.backend === 'embedded') fs.appendFileSync(path.join(dir, 'server-pids.txt'), `${state.pid}\n`);
}

export function run(): Promise<void> {
  const Base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  Base.consoleLog = (...args: unknown[]) =>
    console.log(
      util
        .format(...args)
        .split('\n')
        .map((l) => `[mocha] ${l}`)
        .join('\n'),
    );
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, color: false, reporter: 'spec', rootHooks: { afterAll: recordProcesses } });
  const grep = process.env.RUNLENS_TEST_GREP;
  if (grep) mocha.grep(grep);
  for (const f of fs.readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(path.join(__dirname, f));
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const s = runner.stats ?? { passes: 0, failures, pending: 0 };
      console.log(`[mocha] mocha: ${s.passes} passed, ${s.failures} failed, ${s.pending} skipped`);
      if (failures > 0) reject(new Error(`${failures} test(s) failed`));
      else resolve();
    });
  });
}
