/** The welcome view's "Create Sample Script": a small training script that exercises nested runs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { workspaceRoot } from './config';

export const SAMPLE_SCRIPT = `"""A first Runlens run: parameters, metrics per step, nested runs, an artifact.

Run it from the editor title (Run Python File with Tracking) or from any integrated terminal:
    python runlens_sample.py
Runlens points MLFLOW_TRACKING_URI at the workspace store, so no server or code change is needed.
"""
import math
import random

import mlflow

mlflow.set_experiment("runlens-sample")

with mlflow.start_run(run_name="sweep") as parent:
    mlflow.set_tag("purpose", "sample")
    for lr in (0.1, 0.01):
        with mlflow.start_run(run_name=f"lr={lr}", nested=True):
            mlflow.log_params({"lr": lr, "epochs": 20})
            loss = 1.0
            for step in range(20):
                loss = loss * (1 - lr * 3) + random.random() * 0.01
                mlflow.log_metric("loss", loss, step=step)
                mlflow.log_metric("accuracy", 1 - math.exp(-step * lr * 3), step=step)
            mlflow.log_text(f"final loss {loss:.4f}\\n", "summary.txt")
print("Logged run", parent.info.run_id)
`;

export async function createSampleScript(): Promise<vscode.Uri | undefined> {
  const root = workspaceRoot();
  if (!root) {
    void vscode.window.showWarningMessage('Runlens: open a folder first; the sample script and the store live in the workspace.');
    return undefined;
  }
  let file = path.join(root, 'runlens_sample.py');
  for (let i = 2; fs.existsSync(file); i++) file = path.join(root, `runlens_sample_${i}.py`);
  fs.writeFileSync(file, SAMPLE_SCRIPT);
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri);
  return uri;
}
