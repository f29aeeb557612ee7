/**
 * The VS Code side of the interpreter choice (interpreterChoice.ts): asks the Python extension,
 * when it is installed, for its selected interpreter; and, when mlflow is missing there, says so
 * and offers to install it into that very interpreter.
 */
import * as vscode from 'vscode';
import { fallbackInterpreter, fromPythonExtensionApi, missingMlflowMessage, pipInstallCommand, shellQuote, type Interpreter } from './interpreterChoice';

export const PYTHON_EXTENSION_ID = 'ms-python.python';
export const INSTALL_ACTION = 'Install mlflow';
export const SETTINGS_ACTION = 'Choose Interpreter';

/** A warning as shown (tests read it through LaunchRunner.onDidNotice). */
export interface LaunchNotice {
  message: string;
  actions: string[];
  interpreter: Interpreter;
}

/** The interpreter for a launch of `resource`: see interpreterChoice.ts for the order. */
export async function chooseInterpreter(resource: vscode.Uri | undefined, configured: string, root: string | undefined): Promise<Interpreter> {
  const ext = vscode.extensions.getExtension(PYTHON_EXTENSION_ID);
  if (ext) {
    try {
      const exports: unknown = ext.isActive ? ext.exports : await ext.activate();
      const chosen = await fromPythonExtensionApi(exports, resource);
      if (chosen) return chosen;
    } catch {
      // a Python extension that fails to activate is as good as absent
    }
  }
  return fallbackInterpreter(configured, root);
}

/** Runs `pip install mlflow` with the interpreter, in a terminal the user watches. */
export function installMlflow(i: Interpreter, cwd: string | undefined): vscode.Terminal {
  const terminal = vscode.window.createTerminal({ name: 'Runlens: install mlflow', cwd });
  terminal.show();
  terminal.sendText(pipInstallCommand(i, shellQuote));
  return terminal;
}

/** The "mlflow is missing" notice; resolves with the action the user took, if any. */
export async function offerMlflowInstall(i: Interpreter, cwd: string | undefined, emit: (n: LaunchNotice) => void): Promise<string | undefined> {
  const message = missingMlflowMessage(i);
  const actions = [INSTALL_ACTION, SETTINGS_ACTION];
  emit({ message, actions, interpreter: i });
  const choice = await vscode.window.showWarningMessage(message, ...actions);
  if (choice === INSTALL_ACTION) installMlflow(i, cwd);
  if (choice === SETTINGS_ACTION) {
    // The Python extension's picker when it is there, else our own setting.
    const picked = vscode.extensions.getExtension(PYTHON_EXTENSION_ID) ? 'python.setInterpreter' : undefined;
    if (picked) await vscode.commands.executeCommand(picked);
    else await vscode.commands.executeCommand('workbench.action.openSettings', 'runlens.python.path');
  }
  return choice;
}
