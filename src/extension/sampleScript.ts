/** The welcome view's and walkthrough's sample scripts: a small training sweep, and a traced LLM-style call. */
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

/** Traces without an LLM: a stand-in function plays the model, so the sample needs no key or network. */
export const TRACE_SAMPLE_SCRIPT = `"""Tracing an LLM-style call with MLflow: each call of answer() becomes a trace of spans.

Run it with Run Python File with Tracking, then "Runlens: Open Traces".
Replace fake_llm with your model client; @mlflow.trace records inputs, outputs, timing and errors.
"""
import mlflow

mlflow.set_experiment("runlens-traces")


@mlflow.trace(span_type="RETRIEVER")
def retrieve(question: str) -> list[str]:
    return ["Runlens keeps runs, metrics and traces in the workspace store."]


@mlflow.trace(span_type="LLM")
def fake_llm(prompt: str) -> str:
    # Stands in for a chat completion call.
    return "It keeps them in the workspace: " + prompt.splitlines()[0]


@mlflow.trace(span_type="CHAIN")
def answer(question: str) -> str:
    context = retrieve(question)
    return fake_llm("\\n".join(context + [question]))


for q in ["Where are my runs?", "Where are my traces?"]:
    print(answer(q))
`;

async function writeSample(base: string, body: string): Promise<vscode.Uri | undefined> {
  const root = workspaceRoot();
  if (!root) {
    void vscode.window.showWarningMessage('Runlens: open a folder first; the sample script and the store live in the workspace.');
    return undefined;
  }
  let file = path.join(root, `${base}.py`);
  for (let i = 2; fs.existsSync(file); i++) file = path.join(root, `${base}_${i}.py`);
  fs.writeFileSync(file, body);
  const uri = vscode.Uri.file(file);
  await vscode.window.showTextDocument(uri);
  return uri;
}

export function createSampleScript(): Promise<vscode.Uri | undefined> {
  return writeSample('runlens_sample', SAMPLE_SCRIPT);
}

export function createTraceSample(): Promise<vscode.Uri | undefined> {
  return writeSample('runlens_trace_sample', TRACE_SAMPLE_SCRIPT);
}

/** The walkthrough's id as VS Code knows it: `<publisher>.<name>#<walkthrough id>`. */
export const WALKTHROUGH_ID = 'runlens.runlens#runlens.gettingStarted';
