// The same extension-host suites through @vscode/test-electron, for contributors with internet
// access (it downloads VS Code desktop). CI runs them offline in code-server (scripts/vscode-test.js).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '../../..');
  const workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'runlens-electron-'));
  const python = process.env.RUNLENS_TEST_PYTHON ?? path.join(root, '.venv/latest/bin/python');
  const results = path.join(root, 'test-results', 'vscode');
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify({ 'runlens.python.path': python }));
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
    extensionTestsEnv: { RUNLENS_TEST_PYTHON: python, RUNLENS_TEST_RESULTS: results },
  });
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
