/**
 * Opens a file a traceback names, at its line, when it is in the workspace. The path comes from
 * a view (text a script printed, a span's stack trace): it is only ever opened read as a text
 * document, and only inside a workspace folder, so a view cannot open arbitrary files.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';

/** Resolves to the editor opened, or undefined with a notice when the file is not in the workspace. */
export async function openSourceAt(filePath: string, line: number): Promise<vscode.TextEditor | undefined> {
  const uri = vscode.Uri.file(filePath);
  if (!vscode.workspace.getWorkspaceFolder(uri) || !fs.existsSync(filePath)) {
    void vscode.window.showInformationMessage(`Runlens: ${filePath} is not a file in this workspace, so it is not opened.`);
    return undefined;
  }
  const at = new vscode.Position(Math.max(0, line - 1), 0);
  return vscode.window.showTextDocument(uri, { selection: new vscode.Range(at, at), preview: true });
}
